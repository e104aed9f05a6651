import Foundation
import Testing
@testable import Flows

@Suite struct TemplateTests {
    let scope = Scope(
        values: [
            "event": ["order_num": "A-1", "sum": "100.00", "name": "Анна <b>", "tags": ["vip", "new"], "empty": ""],
            "member": ["telegram_id": 42, "paid": true, "profile": ["city": "Казань"]],
        ],
        now: Date(timeIntervalSince1970: 1_780_000_000),  // 2026-05-28T20:26:40Z
        timeZone: TimeZone(identifier: "Europe/Moscow")!)

    @Test(arguments: [
        ("{{ member.telegram_id }}", Value.number(42)),
        ("id {{ member.telegram_id }}", .string("id 42")),
        ("{{ member.profile }}", ["city": "Казань"]),
        ("{{ member['profile'].city }}", "Казань"),
        ("{{ event.tags[1] }}", "new"),
        ("{{ event.missing }}", .null),
        ("{{ event.missing | default: 'none' }}", "none"),
        ("{{ event.empty | default: 'none' }}", "none"),
        ("{{ event.name | upper }}", "АННА <B>"),
        ("{{ event.name | html }}", "Анна &lt;b&gt;"),
        // Escaped per scalar: a quote or bracket joined to a combining mark is escaped too.
        ("{{ '\"\u{301}<\u{301}\\'' | html }}", "&quot;\u{301}&lt;\u{301}&#39;"),
        ("{{ event.tags | join: '+' }}", "vip+new"),
        ("{{ event.tags | length }}", 2),
        ("{{ event.tags | json }}", "[\"vip\",\"new\"]"),
        ("{{ now | date: 'dd.MM HH:mm' }}", "28.05 23:26"),
        ("{{ now | date: 'HH:mm', 'Europe/Berlin' }}", "22:26"),
        ("{{ '2026-03-29T01:30:00Z' | date: 'HH:mm', 'Europe/Berlin' }}", "03:30"),
        ("{{ 2.345 | round: 2 }}", 2.35),
        ("{{ 'a b&c' | urlencode }}", "a%20b%26c"),
        ("{{ 'abcdef' | truncate: 4 }}", "abc…"),
        ("plain text", "plain text"),
        ("{{ member.paid and event.sum == 100 }}", true),
    ] as [(String, Value)])
    func render(_ source: String, _ expected: Value) throws {
        let template = try Template(parsing: source)
        #expect(try template.render(in: scope) == expected)
    }

    @Test(arguments: [
        ("{{ member.paid", "'{{' is never closed", 0),
        ("a }} b", "'}}' without an opening '{{'", 2),
        ("{{ x | }}", "expected a filter name after '|', found end of expression", 7),
        ("{{ 'open }}", "unterminated text: the quote ' is never closed", 3),
        ("{{ a b }}", "unexpected 'b' after the end of the expression", 5),
        ("{{ a && b }}", "'&&' is not supported", 5),
    ])
    func errors(_ source: String, _ message: String, _ offset: Int) {
        do {
            _ = try Template(parsing: source)
            Issue.record("expected an error for \(source)")
        } catch {
            #expect(error.message == message)
            #expect(error.offset == offset)
        }
    }

    /// A limit taken from the data is checked when the template renders: 0, -1 or text would render '…' alone.
    @Test(arguments: [("event.empty", "\"\""), ("-1", "-1"), ("0", "0"), ("2.5", "2.5")])
    func truncateNeedsAPositiveWholeLimit(_ limit: String, _ shown: String) throws {
        let template = try Template(parsing: "{{ event.name | truncate: \(limit) }}")
        #expect(throws: ExpressionError("truncate takes a whole number of characters from 1, found \(shown)", offset: 16)) {
            try template.render(in: scope)
        }
        #expect(try Template(parsing: "{{ event.name | truncate: 1 }}").render(in: scope) == "…")
    }

    @Test func unknownFilterAtRuntimeIsAnError() {
        #expect(throws: ExpressionError.self) { try Template(parsing: "{{ 1 | shout }}").render(in: scope) }
    }
}

@Suite struct ConditionTests {
    let scope = Scope(values: [
        "event": ["sum": "100.00", "status": "success", "tags": ["vip"], "text": "Хочу оператора!"],
        "member": ["telegram_id": 42, "username": .null],
    ])

    @Test(arguments: [
        ("member.telegram_id != null", true),
        ("member.username == null", true),
        ("member.nothing == null", true),
        ("event.sum == 100", true),
        ("event.sum > 99.5", true),
        ("event.sum >= '100.00'", true),
        ("event.sum < 100", false),
        ("event.sum <= 100", true),
        ("event.status == 'success' and member.telegram_id", true),
        ("event.status == 'fail' or not member.username", true),
        ("not (event.status == 'success')", false),
        ("'vip' in event.tags", true),
        ("event.tags contains 'new'", false),
        ("event.text contains 'оператор'", true),
        ("event.status in ['success', 'paid']", true),
        ("true and false or true", true),
        ("1 < 2 and 'b' > 'a'", true),
    ])
    func evaluate(_ source: String, _ expected: Bool) throws {
        #expect(try ExpressionParser.parse(source).evaluate(in: scope).isTruthy == expected)
    }
}

@Suite struct EnvironmentTests {
    @Test func substitutesAndReportsMissing() throws {
        let env = ["TOKEN": "t0k", "EMPTY": ""]
        #expect(try EnvironmentSubstitution.apply("a ${TOKEN} b", environment: env).get() == "a t0k b")
        #expect(try EnvironmentSubstitution.apply("${NOPE:-fallback}", environment: env).get() == "fallback")
        #expect(try EnvironmentSubstitution.apply("${EMPTY:-x}", environment: env).get() == "x")
        guard case .failure(let missing) = EnvironmentSubstitution.apply("ab${NOPE}", environment: env) else {
            Issue.record("expected a failure"); return
        }
        #expect(missing.name == "NOPE")
        #expect(missing.offset == 2)
        #expect(EnvironmentSubstitution.isReference(" ${TOKEN} "))
        #expect(!EnvironmentSubstitution.isReference("${A}${B}"))
        #expect(!EnvironmentSubstitution.isReference("123:abc"))
    }

    @Test func secretFromEnvironmentIsAcceptedAndResolved() throws {
        let text = """
            on: db.paid
            steps:
              - do: bot.send_invite
                with: { user: 1, token: "${TEST_BOT_TOKEN}" }
            """
        let result = TestCatalog.compile(text, environment: ["TEST_BOT_TOKEN": "secret-value"])
        #expect(result.diagnostics.isEmpty)
        #expect(result.flow?.steps[0].inputs["token"] == .literal("secret-value"))
    }
}

@Suite struct YAMLTrapTests {
    @Test func unquotedOnKeyIsTheTrigger() throws {
        let result = TestCatalog.compile("on: db.paid\nsteps:\n  - do: db.mark_paid\n    with: { order: '01' }\n")
        #expect(result.diagnostics.isEmpty)
        let flow = try #require(result.flow)
        #expect(flow.trigger.key == "db.paid")
        #expect(flow.name == "test")
        #expect(flow.steps[0].inputs["order"] == .literal("01"))
    }

    @Test func numbersWrittenForTextStayExact() throws {
        let result = TestCatalog.compile("on: db.paid\nsteps:\n  - do: db.mark_paid\n    with: { order: 0012, amount: 3000 }\n")
        let flow = try #require(result.flow)
        #expect(flow.steps[0].inputs["order"] == .literal("0012"))
        #expect(flow.steps[0].inputs["amount"] == .literal(3000))
    }
}

/// Expressions deep or long enough to overflow the stack of whatever walks them are refused.
@Suite struct ExpressionLimitTests {
    @Test("20,000 '(' or 'not', or a chain of 20,000 'or', is an error, not a crash", arguments: [
        String(repeating: "(", count: 20_000) + "true" + String(repeating: ")", count: 20_000),
        String(repeating: "not ", count: 20_000) + "true",
        String(repeating: "[", count: 20_000),
        Array(repeating: "a", count: 20_000).joined(separator: " or "),
    ])
    func refused(_ text: String) {
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse(text) }
    }

    @Test func sixtyFourLevelsAreFine() throws {
        let text = String(repeating: "(", count: 63) + "not true" + String(repeating: ")", count: 63)
        #expect(try ExpressionParser.parse(text) != .literal(.null))
    }
}
