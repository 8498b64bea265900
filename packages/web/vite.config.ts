// Vite reads this file; the configuration itself is src/vite-config.ts.
import { defineConfig } from 'vite'
import { viteConfig } from './src/vite-config.ts'

export default defineConfig(viteConfig)
