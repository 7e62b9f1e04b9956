package inventory

import (
	"strconv"
	"testing"
)

// SetExportChunking makes the export's read batches and SQLite chunks
// small, so tests with a few hundred entries cross many of both; the
// returned function restores them.
func SetExportChunking(batchRows int, chunkIDs int64) (restore func()) {
	oldRows, oldIDs := exportBatchRows, exportChunkIDs
	exportBatchRows, exportChunkIDs = batchRows, chunkIDs
	return func() { exportBatchRows, exportChunkIDs = oldRows, oldIDs }
}

func TestParseInt(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-7", "123456789012345678", "-123456789012345678", "1234567890123456789",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "", "-", "1a", "+1", " 1", "1.5", "--1", "١"} {
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := parseInt(s)
		// SQLite never writes a plus sign, so parseInt may refuse it.
		if ok && (err != nil || got != want) || !ok && err == nil && s[0] != '+' {
			t.Errorf("parseInt(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
		}
	}
}
