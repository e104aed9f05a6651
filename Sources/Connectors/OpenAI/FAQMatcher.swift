import Foundation

/// Answers a question from a Markdown FAQ without a language model: the file is split into
/// sections at its headings (`## Где ссылка на сеанс?`), each section is scored by the words it
/// shares with the question, and the best one answers when it scores at least `threshold`.
///
/// Words are compared by a crude stem (lowercase, `ё` → `е`, the first five letters) so Russian
/// endings match (`ссылка`, `ссылку`); words shorter than four letters and common filler words
/// are ignored. A word in a heading counts double. Equal scores go to the earlier section, so
/// the answer is deterministic.
struct FAQMatcher: Sendable {
    /// One heading and the text under it.
    struct Section: Sendable, Hashable {
        var title: String
        var body: String
    }

    /// A heading word, or two words of the body, are enough.
    static let threshold = 2
    static let stemLength = 5
    static let minimumWordLength = 4

    /// Frequent words that say nothing about the topic (stems, as `stems(of:)` makes them).
    static let fillers: Set<String> = Set([
        "если", "чтобы", "можно", "могу", "меня", "мной", "моей", "мою", "этот", "этой", "есть", "будет", "нужно", "надо",
        "пожалуйста", "здравствуйте", "добрый", "привет", "спасибо", "подскажите", "скажите", "какой", "какая", "какие",
        "который", "очень", "просто", "тоже", "также", "ещё", "еще", "вопрос", "хочу", "хотел", "хотела",
        "what", "when", "where", "have", "with", "this", "that", "please", "hello",
    ].map { stem($0) })

    let sections: [Section]

    init(markdown: String) {
        sections = Self.sections(of: markdown)
    }

    /// The best section for the question, when it scores at least `threshold`.
    func bestSection(for question: String) -> Section? {
        let words = Set(Self.stems(of: question))
        guard !words.isEmpty else { return nil }
        var best: (section: Section, score: Int)?
        for section in sections {
            let title = Set(Self.stems(of: section.title))
            let body = Set(Self.stems(of: section.body))
            let score = words.reduce(0) { sum, word in sum + (title.contains(word) ? 2 : body.contains(word) ? 1 : 0) }
            if score > (best?.score ?? 0) { best = (section, score) }
        }
        guard let best, best.score >= Self.threshold else { return nil }
        return best.section
    }

    /// Sections under `##`…`######` headings; text before the first such heading (a `#` title,
    /// an introduction) belongs to no section.
    static func sections(of markdown: String) -> [Section] {
        var sections: [Section] = []
        var current: (title: String, lines: [Substring])?
        func close() {
            guard let c = current else { return }
            let body = c.lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !body.isEmpty { sections.append(Section(title: c.title, body: body)) }
        }
        // Line by line whatever the file's endings, and a byte-order mark before the first heading is no text.
        let text = markdown.hasPrefix("\u{FEFF}") ? String(markdown.dropFirst()) : markdown
        for line in text.sourceLines {
            let trimmed = line.drop { $0 == " " }
            let level = trimmed.prefix { $0 == "#" }.count
            if level >= 2, level <= 6, trimmed.dropFirst(level).first == " " {
                close()
                current = (String(trimmed.dropFirst(level)).trimmingCharacters(in: .whitespaces), [])
            } else if level == 1, trimmed.dropFirst(1).first == " " {
                close()
                current = nil
            } else {
                current?.lines.append(line)
            }
        }
        close()
        return sections
    }

    /// The text's words as stems, filler words and short words left out.
    static func stems(of text: String) -> [String] {
        var words: [String] = []
        var word = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                word.append(character == "ё" ? "е" : character)
            } else if !word.isEmpty {
                words.append(word)
                word = ""
            }
        }
        if !word.isEmpty { words.append(word) }
        return words.filter { $0.count >= minimumWordLength }.map(stem).filter { !fillers.contains($0) }
    }

    static func stem(_ word: String) -> String {
        String(word.lowercased().replacingOccurrences(of: "ё", with: "е").prefix(stemLength))
    }
}
