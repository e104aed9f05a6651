import Testing
@testable import OpenAIConnector

/// Which messages go to an operator without asking the model: only those that do nothing but ask
/// for a person. Anything else (a question that mentions people, a booking) is for the FAQ or the
/// model, which may still hand it over.
@Suite struct HumanRequestTests {
    @Test(arguments: ["оператор", "Оператор!", "позовите оператора", "Позовите, пожалуйста, оператора",
                      "хочу поговорить с живым человеком", "Переключите на оператора", "Нужен менеджер", "I want to talk to a human",
                      "Я хочу поговорить с оператором", "живой человек", "Оператор, пожалуйста!", "Можно оператора?"])
    func aRequestForAPersonHandsOver(_ text: String) {
        #expect(HumanRequest.matches(text))
    }

    @Test(arguments: ["Как вернуться от оператора к боту?", "Сколько человек на сеансе?", "Можно на 2 человека?", "Нас 3 человека",
                      "я человек", "Я менеджер", "оператор не отвечает", "Здравствуйте", "Are you human?", "", "2"])
    func anythingElseIsLeftToTheBot(_ text: String) {
        #expect(!HumanRequest.matches(text))
    }
}
