import Flows
import Foundation
import Testing

/// `RecordID.make()`: the key of every stored event, run, member, payment and invite.
@Suite struct RecordIDTests {
    @Test func isAVersion7UUIDWithTheTimeInFront() throws {
        let before = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        let id = RecordID.make()
        let after = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        let characters = Array(id)
        #expect(characters.count == 36)
        #expect([8, 13, 18, 23].allSatisfy { characters[$0] == "-" }, "\(id)")
        let digits = id.replacingOccurrences(of: "-", with: "")
        #expect(digits.count == 32 && digits.allSatisfy { "0123456789abcdef".contains($0) }, "\(id)")
        #expect(characters[14] == "7", "version: \(id)")
        #expect("89ab".contains(characters[19]), "variant: \(id)")
        let millis = try #require(Int64(String(digits.prefix(12)), radix: 16))
        #expect(millis >= before && millis <= after)
    }

    @Test func idsAreDistinctAndOrderedByTime() async throws {
        let first = Set((0..<1000).map { _ in RecordID.make() })
        #expect(first.count == 1000)
        try await Task.sleep(for: .milliseconds(3))
        let later = RecordID.make()
        #expect(first.allSatisfy { $0 < later })
    }
}
