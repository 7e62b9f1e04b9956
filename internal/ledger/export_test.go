package ledger

import "golang.org/x/mod/sumdb/note"

// ColumnNames are the columns a leaf encodes for log, in order.
func ColumnNames(log Log) []string {
	var out []string
	for _, c := range columns[log] {
		out = append(out, c.name)
	}
	return out
}

// Sign signs text with k, as the sealer does.
func Sign(k *Key, text string) (string, error) {
	b, err := note.Sign(&note.Note{Text: text}, k.signer)
	return string(b), err
}
