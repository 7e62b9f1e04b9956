package inventory

// SetExportChunking makes the export's read batches and SQLite chunks
// small, so tests with a few hundred entries cross many of both; the
// returned function restores them.
func SetExportChunking(batchRows int, chunkIDs int64) (restore func()) {
	oldRows, oldIDs := exportBatchRows, exportChunkIDs
	exportBatchRows, exportChunkIDs = batchRows, chunkIDs
	return func() { exportBatchRows, exportChunkIDs = oldRows, oldIDs }
}
