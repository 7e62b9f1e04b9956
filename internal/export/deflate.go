package export

import (
	"bufio"
	"compress/flate"
	"hash/crc32"
	"io"
)

// deflateSink compresses the sheet's row XML on a second goroutine while
// rows are still being produced, into w (the writer's temporary file).
//
// Why: deflate is about half of the XLSX export's CPU. Done at Close on the
// exporting goroutine, it would all come after the database read; done as
// the rows arrive, it runs on another core beside the query and the row
// rendering.
//
// The output is a raw deflate stream ended with a sync flush (not a final
// block), so the zip entry can be assembled at Close from three
// independently compressed pieces: the worksheet's head, these rows, and its
// tail (see xlsxWriter.writeSheet). Each piece ends on a byte boundary and
// refers only to its own data, so the concatenation is one valid deflate
// stream; its CRC-32 is combined from the pieces' with crc32Combine.
type deflateSink struct {
	buf  []byte        // being filled by Write
	full chan []byte   // filled buffers, to the compressor
	free chan []byte   // emptied buffers, back to Write
	done chan struct{} // closed when the compressor stops
	res  deflateResult // valid after done is closed
}

// deflateResult describes the compressed rows.
type deflateResult struct {
	crc        uint32 // CRC-32 (IEEE) of the uncompressed bytes
	size       int64  // uncompressed bytes
	compressed int64  // compressed bytes written to w
	err        error  // the first failure; the compressor stops at it
}

const (
	deflateChunk   = 256 << 10 // bytes per hand-over
	deflateBuffers = 3         // bounds the memory in flight
)

func newDeflateSink(w io.Writer) (*deflateSink, error) {
	s := &deflateSink{
		full: make(chan []byte, deflateBuffers),
		free: make(chan []byte, deflateBuffers),
		done: make(chan struct{}),
	}
	for range deflateBuffers - 1 {
		s.free <- make([]byte, 0, deflateChunk)
	}
	s.buf = make([]byte, 0, deflateChunk)
	cw := &byteCounter{w: w}
	bw := bufio.NewWriterSize(cw, deflateChunk)
	fw, err := flate.NewWriter(bw, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	go s.run(fw, bw, cw)
	return s, nil
}

// run is the compressor goroutine.
func (s *deflateSink) run(fw *flate.Writer, bw *bufio.Writer, cw *byteCounter) {
	defer close(s.done)
	crc := crc32.NewIEEE()
	for b := range s.full {
		_, _ = crc.Write(b) // hash.Hash never fails
		s.res.size += int64(len(b))
		if _, err := fw.Write(b); err != nil {
			s.res.err = err
			return
		}
		s.free <- b[:0]
	}
	// Flush, not Close: the stream must not end in a final block, since
	// the worksheet's tail follows it.
	err := fw.Flush()
	if err == nil {
		err = bw.Flush()
	}
	s.res.crc, s.res.compressed, s.res.err = crc.Sum32(), cw.n, err
}

// Write queues p for compression. It fails once the compressor has failed.
func (s *deflateSink) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(s.buf) == cap(s.buf) {
			if err := s.handOver(); err != nil {
				return n - len(p), err
			}
		}
		k := min(len(p), cap(s.buf)-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

// handOver sends the current buffer to the compressor and takes an empty one.
func (s *deflateSink) handOver() error {
	select {
	case s.full <- s.buf:
	case <-s.done:
		return s.res.err
	}
	select {
	case s.buf = <-s.free:
		return nil
	case <-s.done:
		return s.res.err
	}
}

// Close sends what is left, waits for the compressor and returns its result.
func (s *deflateSink) Close() (deflateResult, error) {
	var err error
	if len(s.buf) > 0 {
		err = s.handOver()
	}
	close(s.full)
	<-s.done
	if err == nil {
		err = s.res.err
	}
	return s.res, err
}

// abort stops the compressor without caring about its result.
func (s *deflateSink) abort() {
	close(s.full)
	<-s.done
}

// byteCounter counts the bytes passing through to w.
type byteCounter struct {
	w io.Writer
	n int64
}

func (c *byteCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B, given crcA, the
// CRC of A, crcB and lenB, the CRC and length of B (zlib's crc32_combine:
// appending lenB zero bytes to A's CRC register is a linear map, applied by
// repeated squaring of the one-zero-bit operator).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [32]uint32
	odd[0] = 0xedb88320 // the reversed IEEE polynomial
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // first pass: one zero byte
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range 32 {
		square[n] = gf2Times(mat, mat[n])
	}
}
