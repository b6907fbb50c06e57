/** A message that can never be processed (unparseable, invalid): dead-lettered at once. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError'
}

/** An HTTP error with its status and a stable code; the gateway renders it as {"error":{…}}. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export const notFound = (what: string, id: string) => new HttpError(404, 'not_found', `${what} ${id} not found`)
export const conflict = (message: string, details?: unknown) => new HttpError(409, 'conflict', message, details)
export const unprocessable = (message: string, details?: unknown) => new HttpError(422, 'unprocessable', message, details)
export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'bad_request', message, details)
