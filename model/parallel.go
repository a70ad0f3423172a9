package model

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// minParallelDocuments is the number of documents from which a file is
// parsed on every core: YAML parsing was a quarter of a 10,000-host load and
// ran on one (docs/performance.md).
var minParallelDocuments = 64

// piece is one document's text in a file: data[start:end], from line on.
type piece struct {
	start, end, line int
}

// chunk is consecutive documents of a file, parsed together, and the line
// it starts on.
type chunk struct {
	data []byte
	line int
	docs int // documents expected in it
}

// chunkBytes is about how much text one parser takes: a parser costs a few
// kilobytes to set up, too much to pay for every document.
var chunkBytes = 64 << 10

// splitDocuments cuts data at its document separators: lines that are
// "---" alone (trailing blanks or a comment allowed). A separator ends any
// scalar or collection in YAML, so each piece parses as the document the
// whole file's parser would find there. It declines (ok false) a file using
// what a cut could change the meaning of: directives ("%"), document end
// markers ("..."), content after "---" on its line, a byte order mark, or
// carriage returns.
func splitDocuments(data []byte) (pieces []piece, ok bool) {
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || bytes.IndexByte(data, '\r') >= 0 {
		return nil, false
	}
	start, startLine := 0, 1
	line := 1
	for pos := 0; pos < len(data); line++ {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += pos
		}
		text := data[pos:end]
		switch {
		case bytes.HasPrefix(text, []byte("%")), bytes.HasPrefix(text, []byte("...")):
			return nil, false
		case bytes.HasPrefix(text, []byte("---")):
			rest := bytes.TrimLeft(text[3:], " \t")
			if len(rest) > 0 && (rest[0] != '#' || len(rest) == len(text)-3) {
				// "--- x", or "---x" (a plain scalar, not a separator).
				return nil, false
			}
			pieces = append(pieces, piece{start: start, end: pos, line: startLine})
			start, startLine = min(end+1, len(data)), line+1
		}
		pos = end + 1
	}
	return append(pieces, piece{start: start, end: len(data), line: startLine}), true
}

// chunks groups pieces into chunks of about chunkBytes. A chunk other than
// the first starts only at a piece with content: a piece of blanks and
// comments parses as an empty document after a separator, but as nothing
// at the start of a text.
func chunks(data []byte, pieces []piece) []chunk {
	var out []chunk
	first := 0
	for i := 1; i <= len(pieces); i++ {
		if i < len(pieces) && (pieces[i-1].end-pieces[first].start < chunkBytes || !hasContent(data[pieces[i].start:pieces[i].end])) {
			continue
		}
		docs := i - first
		if first == 0 && !hasContent(data[pieces[0].start:pieces[0].end]) {
			docs-- // comments before the first separator are no document
		}
		out = append(out, chunk{data: data[pieces[first].start:pieces[i-1].end], line: pieces[first].line, docs: docs})
		first = i
	}
	return out
}

// hasContent reports whether text has a line that is not blank or a comment.
func hasContent(text []byte) bool {
	for line := range bytes.Lines(text) {
		if t := bytes.TrimLeft(line, " \t\n"); len(t) > 0 && t[0] != '#' {
			return true
		}
	}
	return false
}

// parsed is one chunk parsed: its documents, or the parser's error.
type parsed struct {
	docs []*yaml.Node
	err  error
}

func parseChunk(c chunk) parsed {
	dec := yaml.NewDecoder(bytes.NewReader(c.data))
	var out parsed
	for {
		doc := &yaml.Node{}
		if err := dec.Decode(doc); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			return parsed{err: err}
		}
		shiftLines(doc, c.line-1)
		out.docs = append(out.docs, doc)
	}
}

// loadDocumentsParallel loads a large file's documents, parsed on every
// core and loaded in file order. It returns how many documents it loaded
// before meeting one it leaves to the sequential parser (a syntax error, an
// empty document: its error messages are the sequential parser's), or -1
// when it loaded the whole file. It declines small files and files
// splitDocuments declines (0).
func (l *loader) loadDocumentsParallel(file string, data []byte) int {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 {
		return 0
	}
	pieces, ok := splitDocuments(data)
	if !ok || len(pieces) < minParallelDocuments {
		return 0
	}
	cs := chunks(data, pieces)
	if len(cs) < 2 {
		return 0
	}
	get, stop := parseOrdered(cs, workers)
	defer stop()
	loaded := 0
	for i, c := range cs {
		r := get(i)
		if r.err != nil || len(r.docs) != c.docs {
			// The sequential parser takes over at this chunk, with its
			// own messages (a syntax error, an empty document).
			return loaded
		}
		for _, doc := range r.docs {
			loaded++
			l.loadDocument(file, doc, loaded)
			if l.nodes > l.limit {
				return -1 // reported by the decoder that crossed the limit
			}
		}
	}
	return -1
}

// parseOrdered parses the chunks on workers goroutines; get(i), called
// for i = 0, 1, ... in turn, waits for chunk i's result. At most 8 chunks
// per worker are parsed ahead of the reader. stop ends the workers early.
func parseOrdered(chunks []chunk, workers int) (get func(int) parsed, stop func()) {
	results := make([]chan parsed, len(chunks))
	for i := range results {
		results[i] = make(chan parsed, 1)
	}
	ahead := make(chan struct{}, 8*workers)
	next := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] <- parseChunk(chunks[i])
			}
		})
	}
	wg.Go(func() {
		defer close(next)
		for i := range chunks {
			select {
			case ahead <- struct{}{}:
			case <-done:
				return
			}
			select {
			case next <- i:
			case <-done:
				return
			}
		}
	})
	get = func(i int) parsed {
		r := <-results[i]
		<-ahead
		return r
	}
	var once sync.Once
	return get, func() { once.Do(func() { close(done); wg.Wait() }) }
}
