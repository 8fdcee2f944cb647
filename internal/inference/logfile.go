package inference

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
)

// DefaultMaxLogBytes caps a process's log file; the older half is kept in LOG.1.
const DefaultMaxLogBytes = 8 << 20

// logFile is an append-only file that, once it holds max bytes, is renamed to path.1
// (replacing the previous one) and started anew, so that a process's log never takes more
// than twice max.
type logFile struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File
	size int64
}

func openLog(path string, max int64) (*logFile, error) {
	if max <= 0 {
		max = DefaultMaxLogBytes
	}
	if err := dropLink(path); err != nil {
		return nil, err
	}
	f, err := openNoFollow(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &logFile{path: path, max: max, f: f, size: st.Size()}, nil
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *logFile) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return err
	}
	f, err := openNoFollow(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC)
	if err != nil {
		l.f = nil
		return err
	}
	l.f, l.size = f, 0
	return nil
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// TailLog returns the last n lines of the log at path (reading path.1 too when path holds
// fewer), or "" when there is none.
func TailLog(path string, n int) (string, error) {
	if n <= 0 {
		n = 100
	}
	const maxRead = 1 << 20
	var chunks [][]byte
	lines := 0
	for _, p := range []string{path, path + ".1"} {
		b, err := readTail(p, maxRead)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		chunks = append([][]byte{b}, chunks...)
		lines += bytes.Count(b, []byte("\n"))
		if lines >= n {
			break
		}
	}
	all := bytes.Join(chunks, nil)
	all = bytes.TrimRight(all, "\n")
	if len(all) == 0 {
		return "", nil
	}
	parts := bytes.Split(all, []byte("\n"))
	if len(parts) > n {
		parts = parts[len(parts)-n:]
	}
	return string(bytes.Join(parts, []byte("\n"))) + "\n", nil
}

func readTail(path string, max int64) ([]byte, error) {
	// A link, or anything but a file, in a log's place is no log of ours (see files.go).
	f, err := openNoFollow(path, os.O_RDONLY)
	if errors.Is(err, syscall.ELOOP) {
		return nil, os.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}
