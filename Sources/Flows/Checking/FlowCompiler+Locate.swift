extension FlowCompiler {
    /// Where the character at `offset` of `text` (a scalar's value, or that value after `${…}`
    /// substitution) is in the file. The value often differs from what the file holds: escapes,
    /// `''`, folded and block lines, substituted variables. So the text from `offset` on is
    /// looked for in the file from the scalar's start (its n-th occurrence if the value repeats
    /// it before `offset`), shorter pieces of it if the whole does not appear as written; only
    /// when none does is the position counted from the scalar's start.
    func locate(_ s: SourceNode.Scalar, offset: Int, in text: String) -> SourceLocation {
        let value = Array(text.unicodeScalars)
        guard offset >= 0, offset < value.count, s.location.line >= 1, s.location.line <= sourceLines.count else {
            return s.location(ofOffset: offset)
        }
        let rest = Array(value[offset...].prefix { $0 != "\n" })
        for length in [24, 12, 6] {
            var snippet = Array(rest.prefix(length))
            while let last = snippet.last, last == " " || last == "\t" { snippet.removeLast() }
            guard snippet.count >= 4 else { break }
            var skip = Self.occurrences(of: snippet, in: value, before: offset)
            let first = s.location.line - 1
            for index in first..<min(sourceLines.count, first + 1000) {
                let line = Array(sourceLines[index].unicodeScalars)
                var from = index == first ? max(0, s.location.column - 1) : 0
                while let found = Self.firstIndex(of: snippet, in: line, from: from) {
                    if skip == 0 { return SourceLocation(file: s.location.file, line: index + 1, column: found + 1) }
                    skip -= 1
                    from = found + 1
                }
            }
        }
        return s.location(ofOffset: offset)
    }

    private static func occurrences(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], before end: Int) -> Int {
        var count = 0
        var from = 0
        while let found = firstIndex(of: needle, in: haystack, from: from), found < end {
            count += 1
            from = found + 1
        }
        return count
    }

    private static func firstIndex(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from: Int) -> Int? {
        from < haystack.count ? haystack[from...].firstRange(of: needle)?.lowerBound : nil
    }
}
