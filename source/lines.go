package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
)

// EachLine calls fn with every line of in.R (without its line ending) and
// its 1-based number. A line longer than MaxRecord is reported as a bad
// record and skipped without holding it in memory. The slice passed to fn
// is only valid during the call.
func EachLine(ctx context.Context, in *Input, fn func(line []byte, n int) error) error {
	br := bufio.NewReaderSize(in.R, 64<<10)
	var long []byte
	n := 0
	for {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it up to MaxRecord.
			if long == nil {
				long = make([]byte, 0, 2*len(chunk))
			}
			if len(long) <= MaxRecord {
				long = append(long, chunk...)
			}
			continue
		}
		if len(chunk) == 0 && err == io.EOF && long == nil {
			return nil
		}
		n++
		line := chunk
		if long != nil {
			if len(long) <= MaxRecord {
				long = append(long, chunk...)
			}
			line = long
		}
		tooLong := len(line) > MaxRecord
		line = bytes.TrimRight(line, "\r\n")
		long = nil
		if tooLong {
			in.Badf(n, 0, "line longer than %d bytes, skipped", MaxRecord)
		} else if ferr := fn(line, n); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
