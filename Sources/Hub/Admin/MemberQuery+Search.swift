import Flows

extension MemberQuery {
    /// The search term: a leading "@" (a Telegram username as people write it) is dropped.
    var searchTerm: String { search.hasPrefix("@") ? String(search.dropFirst()) : search }

    /// Whether the search goes through SQLite's trigram index: terms of three characters or more.
    /// No member holds a NUL (PostgreSQL's text cannot), and both LIKE and FTS5 would read a term
    /// only up to it, so such a term finds nobody, without a query.
    func usesSearchIndex(_ dialect: SQLDialect) -> Bool {
        let scalars = searchTerm.unicodeScalars
        return dialect == .sqlite && !search.isEmpty && !scalars.contains("\u{0}") && scalars.count >= Self.trigram
    }

    /// Search: a case-insensitive substring of the name, e-mail, Telegram username or phone
    /// (a leading "@" is dropped); phone-like input also matches the phone's digits.
    func searchCondition(dialect: SQLDialect, walkingOrder: Bool, _ parameter: (Value) -> String) -> String {
        let term = searchTerm
        // Phones are stored as +79991234567: "8 999 123" should find them by their digits.
        var phoneDigits: String?
        let digits = term.filter(\.isNumber)
        if digits.count >= 3 && term.allSatisfy({ $0.isNumber || " +-()".contains($0) }) {
            phoneDigits = digits.count == 11 && (digits.hasPrefix("8") || digits.hasPrefix("7")) ? String(digits.dropFirst()) : digits
        }
        if term.unicodeScalars.contains("\u{0}") { return "1 = 0" }
        switch dialect {
        case .sqlite where usesSearchIndex(dialect):
            // The trigram index (database migration 3) finds substrings of three characters or more,
            // folding case across Unicode. Quoted, the term is one literal phrase whatever it holds.
            var match = Self.ftsPhrase(term)
            if let phoneDigits { match += " OR phone : " + Self.ftsPhrase(phoneDigits) }
            // "+id" keeps SQLite from fetching each match by its id: it walks the sort's index instead.
            return (walkingOrder ? "+id" : "id") + " IN (SELECT member_id FROM funnel_members_search_docs WHERE docid IN "
                + "(SELECT rowid FROM funnel_members_search WHERE funnel_members_search MATCH \(parameter(.string(match)))))"
        case .sqlite:
            // Shorter than a trigram: a scan, with LIKE, whose LOWER() folds ASCII only; Cyrillic is
            // matched as typed and as names are written (capitalised).
            let p = parameter(.string(Self.likePattern(term)))
            var alternatives = ["LOWER(full_name) LIKE \(p) ESCAPE '\\'", "LOWER(email) LIKE \(p) ESCAPE '\\'",
                                "LOWER(telegram_username) LIKE \(p) ESCAPE '\\'", "phone LIKE \(p) ESCAPE '\\'"]
            alternatives += cyrillicVariants(term).map { "full_name LIKE \(parameter(.string($0))) ESCAPE '\\'" }
            if let phoneDigits { alternatives.append("phone LIKE \(parameter(.string(Self.likePattern(phoneDigits)))) ESCAPE '\\'") }
            return "(" + alternatives.joined(separator: " OR ") + ")"
        case .postgres:
            // LOWER(column) LIKE, which the pg_trgm index on LOWER(column) serves (database migration 3);
            // backslash is PostgreSQL's default LIKE escape. LOWER() folds case as the database's locale
            // does: under the C locale ASCII only, hence the Cyrillic variants there. Elsewhere the
            // constant test folds them away, so every alternative stays one the index can answer.
            let p = parameter(.string(Self.likePattern(term)))
            var alternatives = ["LOWER(full_name) LIKE \(p)", "LOWER(email) LIKE \(p)", "LOWER(telegram_username) LIKE \(p)", "phone LIKE \(p)"]
            alternatives += cyrillicVariants(term).map { "(full_name LIKE \(parameter(.string($0))) AND LOWER('Ж') <> 'ж')" }
            if let phoneDigits { alternatives.append("phone LIKE \(parameter(.string(Self.likePattern(phoneDigits))))") }
            return "(" + alternatives.joined(separator: " OR ") + ")"
        }
    }

    /// Characters in a trigram, the shortest term the SQLite search index can find.
    static let trigram = 3

    /// LIKE patterns for a non-ASCII term as typed and capitalised, for databases whose LOWER() leaves it alone.
    private func cyrillicVariants(_ term: String) -> [String] {
        guard term.unicodeScalars.contains(where: { !$0.isASCII }) else { return [] }
        var variants: [String] = []
        for variant in [term, term.capitalized] where variant != term.lowercased() && !variants.contains(variant) {
            variants.append(variant)
        }
        return variants.map { Self.likePattern($0, folding: false) }
    }

    /// An FTS5 string: inside double quotes every character is literal but the quote, which is doubled.
    static func ftsPhrase(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
