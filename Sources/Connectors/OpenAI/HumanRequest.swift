import Foundation

/// A message that only asks for a person: "оператор", "Оператор!", "Позовите, пожалуйста,
/// оператора", "хочу поговорить с живым человеком", "talk to a human". It goes to the operators
/// without asking the model: the answer is known, and it must not wait for an AI that is down.
///
/// A question that merely mentions one is not such a request ("Как вернуться от оператора к
/// боту?", "Сколько человек на сеансе?"): every word must either name a person or be one of the
/// few words people ask with, so a single other word leaves the message to the FAQ or the model
/// (which may still hand it over).
enum HumanRequest {
    /// The beginnings of the words that name a person: "оператора", "человеком", "сотруднику".
    static let personStems = ["оператор", "человек", "сотрудник", "менеджер", "operator", "human", "person", "agent"]

    /// Words that ask: a message with a person and one of these is a request ("Я хочу поговорить с
    /// оператором"), as written after lowercasing and `ё` → `е`.
    static let askingWords: Set<String> = [
        "позовите", "позови", "позвать", "зовите", "зови", "пригласите", "подключите", "подключить", "дайте", "дай",
        "соедините", "соедини", "свяжите", "связаться", "переключите", "переключи", "переведите", "передайте", "прошу",
        "нужен", "нужна", "нужно", "надо", "хочу", "хотел", "хотела", "хотим", "можно", "поговорить", "говорить", "пообщаться",
        "call", "get", "want", "need", "talk", "speak", "connect", "can", "could",
    ]

    /// Words that may stand beside a person's name on its own ("Оператор, пожалуйста!", "живой человек").
    static let politeWords: Set<String> = [
        "пожалуйста", "плиз", "живой", "живым", "живого", "живому", "живая", "настоящий", "настоящим", "настоящего", "реальный",
        "реальным", "здравствуйте", "привет", "добрый", "день", "вечер", "срочно", "please", "real", "live", "hello", "hi",
    ]

    /// Words that only join a request together; without an asking word they make a statement ("я человек").
    static let joiningWords: Set<String> = [
        "я", "мне", "меня", "нам", "вас", "с", "со", "к", "ко", "на", "бы", "ну", "же", "а", "и", "пусть", "ответит",
        "me", "a", "an", "the", "i", "to", "with",
    ]

    /// The hand-over reason the operators see.
    static let reason = "клиент просит человека"

    /// Whether `text` is nothing but a request for a person: a person named, every word one of
    /// the words above, and an asking word unless the person stands alone with polite words.
    static func matches(_ text: String) -> Bool {
        // Numbers are words too: «Можно на 2 человека?» is a booking question, not a request.
        let words = text.lowercased().replacingOccurrences(of: "ё", with: "е")
            .split { !$0.isLetter && !$0.isNumber }.map(String.init)
        var namesPerson = false, asks = false, joins = false
        for word in words {
            if personStems.contains(where: word.hasPrefix) {
                namesPerson = true
            } else if askingWords.contains(word) {
                asks = true
            } else if joiningWords.contains(word) {
                joins = true
            } else if !politeWords.contains(word) {
                return false
            }
        }
        return namesPerson && (asks || !joins)
    }
}
