/** The browser tests' Chromium: the package's own launcher (src/chromium.ts). */
export { CHROMIUM, ensureChromium, launchChromium } from '../src/index.ts'
