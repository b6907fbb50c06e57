/** Hides the password of a connection URL: postgres://mm:secret@host → postgres://mm:***@host. */
export const maskUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (!parsed.password) return url
    parsed.password = '***'
    return parsed.toString().replace('%2A%2A%2A', '***')
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
  }
}
