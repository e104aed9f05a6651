extension String {
    /// The lines of a source file, split at every "\n", with a "\r" before it dropped. Splitting
    /// the `Character`s at "\n" misses CRLF endings: Swift holds "\r\n" as one character.
    public var sourceLines: [Substring] {
        unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let text = Substring(line)
            return text.unicodeScalars.last == "\r" ? Substring(text.unicodeScalars.dropLast()) : text
        }
    }
}
