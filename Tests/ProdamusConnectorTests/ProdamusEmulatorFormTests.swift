@testable import Emulators
import Testing
@testable import ProdamusConnector

/// The emulated payment page reads a link as PHP fills `$_GET`, limits included: a hostile
/// link must neither trap nor recurse without end, and the data it signs is what PHP would see.
@Suite("Prodamus emulator form")
struct ProdamusEmulatorFormTests {
    /// The `entries` of nested forms along `keys`.
    static func form(_ form: ProdamusEmulatorForm, at keys: [String]) -> ProdamusEmulatorForm? {
        var current = form
        for key in keys {
            guard let inner = current.form(key) else { return nil }
            current = inner
        }
        return current
    }

    @Test func anAppendAfterTheLargestIndexIsSkippedAsPHPSkipsIt() {
        let form = ProdamusEmulatorForm.parse(query: "a[9223372036854775807]=1&a[]=2&a[][x]=3&b=4")
        #expect(form.form("a")?.entries.map(\.key) == ["9223372036854775807"])
        #expect(form.form("a")?.text("9223372036854775807") == "1")
        #expect(form.text("b") == "4")

        // The last free index is still taken once; the append after it is skipped.
        let full = ProdamusEmulatorForm.parse(query: "a[9223372036854775806]=1&a[]=2&a[]=3")
        #expect(full.form("a")?.entries.map(\.key) == ["9223372036854775806", "9223372036854775807"])
        #expect(full.form("a")?.text("9223372036854775807") == "2")
    }

    @Test func sixtyFourLevelsAreKeptAndADeeperNameDropsItsWholeVariable() {
        let levels = (1...64).map { "k\($0)" }
        let deepest = ProdamusEmulatorForm.parse(query: "a" + levels.map { "[\($0)]" }.joined() + "=v")
        #expect(Self.form(deepest, at: ["a"] + levels.dropLast())?.text("k64") == "v")

        // PHP deletes `a` altogether, what earlier pairs stored in it included; later pairs start it afresh.
        let tooDeep = ProdamusEmulatorForm.parse(query: "a[kept]=1&" + "a" + String(repeating: "[]", count: 65) + "=2&b=3")
        #expect(tooDeep["a"] == nil)
        #expect(tooDeep.text("b") == "3")
        let again = ProdamusEmulatorForm.parse(query: "a" + String(repeating: "[x]", count: 65) + "=1&a[y]=2")
        #expect(again.form("a")?.entries.map(\.key) == ["y"])

        // An unclosed bracket after 64 levels is a 65th level to PHP too.
        let unclosed = ProdamusEmulatorForm.parse(query: "a" + String(repeating: "[x]", count: 64) + "[y=1")
        #expect(unclosed["a"] == nil)
    }

    @Test func aHalfMillionLevelsDeepNameIsDroppedWithoutRecursing() {
        let form = ProdamusEmulatorForm.parse(query: "a" + String(repeating: "[]", count: 500_000) + "=1&order_id=7")
        #expect(form["a"] == nil)
        #expect(form.text("order_id") == "7")
    }

    /// `$_GET` skips empty segments and keeps the first 1000 pairs (`max_input_vars`).
    @Test func onlyTheFirstThousandPairsCount() {
        let pairs = (0..<1000).map { "a[]=\($0)" }
        let form = ProdamusEmulatorForm.parse(query: "&&" + pairs.joined(separator: "&&") + "&b=late")
        #expect(form.form("a")?.entries.count == 1000)
        #expect(form.form("a")?.text("999") == "999")
        #expect(form["b"] == nil)

        let flood = ProdamusEmulatorForm.parse(query: Array(repeating: "a[]=1", count: 5000).joined(separator: "&"))
        #expect(flood.form("a")?.entries.count == 1000)
    }

    /// A link longer than 1000 pairs is signed over what PHP reads of it: the pairs after the
    /// 1000th are not part of the data, and a signature after them is not there at all.
    @Test func theSignatureCoversThePairsPHPReads() {
        let secret = "limit-secret"
        let data = ["order_id=ord-1", "products[0][name]=X", "products[0][price]=10.00", "products[0][quantity]=1"]
            + (0..<995).map { "filler[]=\($0)" }
        let signature = ProdamusSignature.sign(PHPForm.parse(urlencoded: Array(data.joined(separator: "&").utf8)), secret: secret)
        let beyond = ["filler[]=ignored", "products[1][name]=Y"]

        let signedFirst = "signature=\(signature)&" + (data + beyond).joined(separator: "&")
        guard case .success(let link) = ProdamusEmulatorLink.parse(signedFirst, secretKey: secret) else {
            Issue.record("the link PHP would accept was refused")
            return
        }
        #expect(link.products.map(\.name) == ["X"])

        let signedLast = (data + beyond).joined(separator: "&") + "&signature=\(signature)"
        guard case .failure(let refusal) = ProdamusEmulatorLink.parse(signedLast, secretKey: secret) else {
            Issue.record("a signature PHP never reads was accepted")
            return
        }
        #expect(refusal.page.contains("Ссылка не подписана."))
    }
}
