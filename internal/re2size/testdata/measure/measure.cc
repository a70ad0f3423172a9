// measure prints RE2::ProgramSize() for each pattern read from stdin, one
// hex-encoded pattern a line, or -1 when RE2 rejects it. RE2 gets the
// options Envoy gives it (re2::RE2::Quiet; source/common/common/regex.cc).
// Built by TestRegenerateCorpus with the system's libre2.
#include <iostream>
#include <string>

#include <re2/re2.h>

static int unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return c - 'a' + 10;
}

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::string pattern;
    for (size_t i = 0; i + 1 < line.size(); i += 2)
      pattern.push_back(static_cast<char>(unhex(line[i]) << 4 | unhex(line[i + 1])));
    re2::RE2 re(pattern, re2::RE2::Quiet);
    std::cout << (re.ok() ? re.ProgramSize() : -1) << "\n";
  }
  return 0;
}
