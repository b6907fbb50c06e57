/** MongoDB's duplicate-key error code (the same on mongo-java-server): a version-guarded upsert found a newer document. */
export const DUPLICATE_KEY = 11000
