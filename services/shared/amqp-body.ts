import {PoisonMessageError} from './errors.js'
import {utf8Text} from './text.js'

const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/
const UTF8 = /^utf-?8$/i

/**
 * The text of a RabbitMQ message whose body must be JSON, checked against what its properties
 * declare; anything else can never be processed, so it is poison (dead-lettered with the reason).
 * No content type means JSON: the contract's bodies are JSON, and the management UI and many
 * scripts send none. A declared one must be a JSON media type, in UTF-8 if it names a charset; a
 * content encoding other than identity/UTF-8 (gzip, …) is not decoded. The bytes themselves must
 * be UTF-8: they are never decoded with silent U+FFFD replacements.
 */
export const jsonBodyText = (content: Buffer, properties: {contentType?: unknown; contentEncoding?: unknown} = {}): string => {
  const {contentType, contentEncoding} = properties
  if (typeof contentEncoding === 'string' && contentEncoding !== '' && contentEncoding.toLowerCase() !== 'identity' && !UTF8.test(contentEncoding)) {
    throw new PoisonMessageError(`content encoding ${contentEncoding} is not supported: send the JSON body unencoded`)
  }
  if (typeof contentType === 'string' && contentType !== '') {
    const [mediaType, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase())
    if (!JSON_MEDIA_TYPE.test(mediaType!)) throw new PoisonMessageError(`content type ${contentType} is not JSON: send application/json`)
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice('charset='.length)
      .replaceAll('"', '')
    if (charset !== undefined && !UTF8.test(charset)) throw new PoisonMessageError(`charset ${charset} is not supported: JSON bodies are UTF-8`)
  }
  const text = utf8Text(content)
  if (text === undefined) throw new PoisonMessageError('body is not valid UTF-8')
  return text
}
