import Flows

extension OpenAIConnector {
    static let answerSpec = ActionSpec(
        name: "answer",
        summary: "Answers a client's question from the knowledge file and the member's state, or says a human should take over "
            + "(at once, without the model, for a message that only asks for one: \"оператор\", \"позовите оператора\").",
        inputs: [
            .required("question", .string, "the client's message (cut at 4,000 characters; treated as data, never as instructions)"),
            .optional("member", .object, "what the hub knows about the client, e.g. the database's find_member result", fields: [
                .output("full_name", .string, "the client's name"),
                .output("paid", .boolean, "whether the client has paid"),
                .output("joined", .boolean, "whether the client is in the private group"),
                .output("status", .string, "the member's status"),
                .output("next_session", .string, "when the next session is, as text"),
            ]),
            .optional("history", .array, "earlier messages of the chat, oldest first: [{role: user|assistant, text}]; the last 10 are used"),
            .optional("knowledge", .string, "extra facts for this question (e.g. today's session time), added to the knowledge file"),
        ],
        outputs: [
            .output("text", .string, "the answer for the client (a hand-over note when escalating)"),
            .output("escalate", .boolean, "true when a human operator should take the chat over"),
            .output("reason", .string, "why it escalates, for the operator; empty otherwise"),
        ],
        hasSideEffects: false,
        example: """
            do: openai.answer
            with:
              question: "{{ event.body.text }}"
              member:
                full_name: "{{ event.body.full_name }}"
                paid: "{{ event.body.paid }}"
                next_session: "сегодня в 19:00 МСК"
              history: "{{ event.body.history }}"
            """)

    /// Asks the model when there is an API key, else the FAQ. An empty question gets a prompt
    /// to write one, and a message that only asks for a person a hand-over, without any call.
    func answer(_ call: ActionCall) async throws -> Value {
        let question = SupportQuestion(call.inputs)
        guard !question.question.isEmpty else {
            return SupportAnswer(text: SupportAnswer.emptyQuestionText, escalate: false, reason: "").value
        }
        if HumanRequest.matches(question.question) {
            return SupportAnswer.escalation(HumanRequest.reason).value
        }
        let knowledgeText = knowledge.text()
        let answer: SupportAnswer
        if let client {
            let body = SupportPrompt(settings: settings).requestBody(knowledge: knowledgeText, question: question)
            answer = try await client.complete(body)
        } else {
            answer = Self.faqAnswer(question, knowledge: knowledgeText)
        }
        call.logger.debug("support question answered", metadata: [
            "flow.name": "\(call.flow)", "run.id": "\(call.runID)", "step.id": "\(call.stepID)",
            "answer.source": "\(client == nil ? "faq" : "model")", "answer.escalate": "\(answer.escalate)",
        ])
        return answer.value
    }

    /// The FAQ section that best matches the question, or an escalation when none does.
    static func faqAnswer(_ question: SupportQuestion, knowledge: String?) -> SupportAnswer {
        let text = [knowledge, question.extraKnowledge].compactMap { $0 }.joined(separator: "\n\n")
        guard let section = FAQMatcher(markdown: text).bestSection(for: question.question) else {
            return .escalation("no answer in FAQ")
        }
        return SupportAnswer(text: section.body, escalate: false, reason: "")
    }
}
