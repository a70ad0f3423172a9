package re2size

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"testing"
)

var regen = flag.Bool("regen-corpus", false, "measure the corpus again with the system's libre2 (needs g++ and libre2-dev)")

const corpusPath = "testdata/corpus.tsv"

// TestCorpus asserts that the port gives RE2's own program size for every
// pattern in the corpus, measured with libre2 by TestRegenerateCorpus. The
// libre2 that measured it (Debian's 20220601) predates RE2 2023-08-01, so
// the port runs in that version's mode; TestEmptyWidthRepeat covers the
// one later change that affects sizes.
func TestCorpus(t *testing.T) {
	f, err := os.Open(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		want, quoted, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad corpus line %q", line)
		}
		pattern, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("corpus line %q: %v", line, err)
		}
		got, err := programSize(pattern, true)
		if err != nil {
			got = -1
		}
		if strconv.Itoa(got) != want {
			t.Errorf("ProgramSize(%q) = %d (err %v); RE2 says %s", pattern, got, err, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 2000 {
		t.Fatalf("corpus has %d patterns; want at least 2000", n)
	}
}

// TestRegenerateCorpus rewrites testdata/corpus.tsv: it builds
// testdata/measure against the system's libre2 and measures the corpus
// patterns with it. Run with -regen-corpus; the Debian/Ubuntu packages
// g++ and libre2-dev provide what it needs.
func TestRegenerateCorpus(t *testing.T) {
	if !*regen {
		t.Skip("run with -regen-corpus to measure the corpus with libre2")
	}
	bin := filepath.Join(t.TempDir(), "measure")
	build := exec.Command("g++", "-O1", "-o", bin, "testdata/measure/measure.cc", "-lre2")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/measure: %v\n%s", err, out)
	}
	patterns := corpusPatterns()
	var in strings.Builder
	for _, p := range patterns {
		in.WriteString(hex.EncodeToString([]byte(p)) + "\n")
	}
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	sizes := strings.Fields(string(out))
	if len(sizes) != len(patterns) {
		t.Fatalf("measured %d sizes for %d patterns", len(sizes), len(patterns))
	}
	var b strings.Builder
	b.WriteString("# RE2::ProgramSize() measured with libre2 by TestRegenerateCorpus (-1: RE2 rejects the pattern)\n")
	for i, p := range patterns {
		fmt.Fprintf(&b, "%s\t%s\n", sizes[i], strconv.Quote(p))
	}
	if err := os.WriteFile(corpusPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// corpusPatterns is the corpus: the shapes trustgate generates, then
// random patterns from a small grammar, all accepted by Go's parser.
func corpusPatterns() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if _, err := syntax.Parse(p, syntax.Perl); err == nil && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range generatedShapes() {
		add(p)
	}
	rng := rand.New(rand.NewPCG(9, 2026))
	for len(out) < 3500 {
		add(randomPattern(rng, 3))
	}
	return out
}

// generatedShapes are the regexes trustgate writes, for hosts and values
// of many lengths, and the long repetitions users write.
func generatedShapes() []string {
	var out []string
	labels := []string{"a", "admin", "kiosk", "sks", "x1-y2", "example", "svc", "k8s", "ssssssss", "kkkk"}
	for n := 1; n <= 253; n += 6 {
		var host strings.Builder
		for i := 0; host.Len() < n; i++ {
			if host.Len() > 0 {
				host.WriteByte('.')
			}
			host.WriteString(labels[i%len(labels)])
		}
		h := host.String()[:n]
		h = strings.Trim(h, ".")
		q := regexp.QuoteMeta(h)
		out = append(out,
			`(?i)`+q+`(:[0-9]+)?`, `(?i).*`+q+`(:[0-9]+)?`, `(?i)`+q+`.*`, `(?i).*`+q+`.*`,
			foldASCII(h)+`(:[0-9]+)?`, `.*`+foldASCII(h)+`(:[0-9]+)?`, foldASCII(h)+`.*`,
			`(?i:`+q+`)`, `spiffe://`+q+`/.*`, `spiffe://.*`+q)
	}
	const rdn = `(?:[\x00-\x2a\x2d-\x5b\x5d-\x7f]|\\[\x00-\x7f])*`
	for _, v := range []string{"admin", "kiosk.staff.example.com", "a\\,b", strings.Repeat("s", 64), strings.Repeat("k", 64)} {
		q := regexp.QuoteMeta(v)
		out = append(out,
			`(?:`+rdn+`[,+])*CN=`+q+`(?:[,+]`+rdn+`)*`,
			`(?:`+rdn+`[,+])*CN=(?i:`+q+`)(?:[,+]`+rdn+`)*`,
			`(?:`+rdn+`[,+])*CN=`+q+rdn+`(?:[,+]`+rdn+`)*`,
			`(?:`+rdn+`[,+])*CN=`+rdn+q+rdn+`(?:[,+]`+rdn+`)*`)
	}
	for _, n := range []int{1, 2, 3, 10, 49, 50, 100, 333, 500, 999, 1000} {
		out = append(out, fmt.Sprintf(`/[a-z0-9]{1,%d}`, n), fmt.Sprintf(`[a-z]{%d}`, n),
			fmt.Sprintf(`(?i)[a-z]{%d,}`, n), fmt.Sprintf(`\d{0,%d}`, n), fmt.Sprintf(`.{%d}`, n))
	}
	return out
}

// randomPattern draws a pattern of the given nesting depth.
func randomPattern(rng *rand.Rand, depth int) string {
	var b strings.Builder
	if rng.IntN(6) == 0 {
		b.WriteString([]string{"(?i)", "(?s)", "(?m)", "(?U)", "(?is)", "(?i-s)"}[rng.IntN(6)])
	}
	if rng.IntN(8) == 0 {
		b.WriteString("^")
	}
	writeAlt(&b, rng, depth)
	if rng.IntN(8) == 0 {
		b.WriteString("$")
	}
	return b.String()
}

func writeAlt(b *strings.Builder, rng *rand.Rand, depth int) {
	n := 1
	if rng.IntN(3) == 0 {
		n += rng.IntN(4)
	}
	for i := range n {
		if i > 0 {
			b.WriteString("|")
		}
		for range 1 + rng.IntN(4) {
			writePiece(b, rng, depth)
		}
	}
}

var atoms = []string{
	"a", "b", "k", "s", "K", "S", "x", "0", "7", "-", "_", `\.`, "/", ":", "é", "ß", "Σ", "σ", "ſ", "日", "\u212a", "ǅ", "Ω",
	"abc", "kiss", "Admin", "[a-z]", "[A-Z]", "[a-zA-Z]", "[0-9]", "[^a-z]", "[^\\n]", "[a-z0-9]", "[a-zA-Z0-9_-]",
	"[ks]", "[Kk]", "[Aa]", "[.]", "[[:alpha:]]", "[[:^digit:]]", "[[:word:]]", `\d`, `\D`, `\w`, `\W`, `\s`, `\S`,
	`\pL`, `\p{Greek}`, `\PL`, `\p{Lu}`, `\pN`, `[\x{100}-\x{10FFFF}]`, `[\x{80}-\x{10FFFF}]`, `[^\x00-\x7f]`,
	`[\x{800}-\x{FFFF}]`, `[\x{D000}-\x{E000}]`, `[é-ü]`, ".", `\x41`, `\x{1F600}`, `\101`, `\n`, `\t`, `\Qa.b\E`,
	"^", "$", `\b`, `\B`, `\A`, `\z`, "()", "(?:)", "[a-f]", "[^\\x00-\\x{10FFFF}]", "[\\x00-\\x{10FFFF}]",
}

func writePiece(b *strings.Builder, rng *rand.Rand, depth int) {
	if depth > 0 && rng.IntN(4) == 0 {
		b.WriteString([]string{"(", "(?:", "(?i:", "(?P<n>", "(?s:", "(?-i:"}[rng.IntN(6)])
		writeAlt(b, rng, depth-1)
		b.WriteString(")")
	} else {
		b.WriteString(atoms[rng.IntN(len(atoms))])
	}
	if rng.IntN(3) == 0 {
		reps := []string{"*", "+", "?", "*?", "+?", "??", "{2}", "{0,3}", "{1,}", "{3,5}", "{2,}?", "{0}", "{1}", "{0,1}", "{5,12}"}
		b.WriteString(reps[rng.IntN(len(reps))])
	}
}

// TestEmptyWidthRepeat checks the one size-relevant change after the
// corpus's libre2: since RE2 2023-08-01 (re2/simplify.cc, SimplifyRepeat)
// a repeated empty-width assertion, or a group of them, repeats at most
// once, so x{n,m} of one measures as x{min(n,1),min(m,1)}.
func TestEmptyWidthRepeat(t *testing.T) {
	for name, tc := range map[string]struct{ repeated, once string }{
		"caret":      {`^{3,5}[^a-z]`, `^[^a-z]`},
		"boundary":   {`a\b{2}b`, `a\bb`},
		"optional":   {`a\z{0,3}`, `a\z?`},
		"group":      {`a(?:\b\B){2,}b`, `a(?:\b\B)+b`},
		"unbounded0": {`a\A*b`, `a\A*b`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ProgramSize(tc.repeated)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ProgramSize(tc.once)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("ProgramSize(%q) = %d, want %d as for %q", tc.repeated, got, want, tc.once)
			}
		})
	}
	old, err := programSize(`^{3,5}[^a-z]`, true)
	if err != nil {
		t.Fatal(err)
	}
	now, err := ProgramSize(`^{3,5}[^a-z]`)
	if err != nil {
		t.Fatal(err)
	}
	if old <= now {
		t.Errorf("before 2023-08-01 ^{3,5} was expanded: %d should exceed %d", old, now)
	}
}

// foldASCII returns a pattern that matches s exactly except that ASCII
// letters match in either case. Each letter is written [Aa], which RE2
// compiles to one case-folding instruction; (?i) would also add the
// Unicode case variants (k also matches U+212A KELVIN SIGN, s U+017F
// LATIN SMALL LETTER LONG S), which take four more instructions each and
// do not belong in an ASCII host name.
func foldASCII(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteString("[" + string(c-'a'+'A') + string(c) + "]")
		case c >= 'A' && c <= 'Z':
			b.WriteString("[" + string(c) + string(c-'A'+'a') + "]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}
