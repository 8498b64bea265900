/**
 * The base of every Atoll error. `name` is the subclass's own name, written once (the class
 * declaration), so callers can branch on `err.name` across packages and realms; one class per
 * failure, the message says what was expected and what was found.
 */
export class AtollError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}
