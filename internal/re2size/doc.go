// Package re2size computes RE2's program size for a pattern: the number
// RE2::ProgramSize() returns, which Envoy compares with the runtime value
// re2.max_program_size.error_level before accepting a regex
// (source/common/common/regex.cc, CompiledGoogleReMatcher's constructor).
// A regex over the limit makes Envoy reject the whole listener or route
// configuration update.
//
// Go's regexp is not RE2's compiler, so the size cannot be read off Go's
// regexp/syntax program. This package ports the parts of RE2 (version
// 2024-07-02, the one Envoy pins in bazel/repository_locations.bzl) that
// decide the size: the parser's stack machine and alternation factoring
// (re2/parse.cc), simplification (re2/simplify.cc), compilation with its
// UTF-8 rune-range suffix cache (re2/compile.cc), and Prog::Optimize and
// Prog::Flatten (re2/prog.cc). Go's regexp/syntax parses the atoms
// (escapes, character classes and their case folding), whose meaning the
// two parsers share. testdata/corpus.tsv holds sizes measured with the real
// libre2 (testdata/measure); TestCorpus asserts the port equals them.
//
// It sits beside the pipeline: model, xds/ir and xds/translate all measure
// with it. It imports nothing of trustgate's.
package re2size
