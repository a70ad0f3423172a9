// Package suggest finds the "did you mean" of a user error: the known name
// closest to a misspelt one by edit distance. The model suggests secret,
// Gateway and port names with it; envoyfmt suggests formatter commands.
//
// It sits beside the pipeline and imports nothing of trustgate's.
package suggest
