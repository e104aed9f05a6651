import Foundation
import Testing
@testable import ProdamusConnector

// Expected values marked "PHP 8.2" were produced by php-cgi 8.2 filling `$_POST` and by the
// official `Hmac::create` (strval, recursive ksort, json_encode JSON_UNESCAPED_UNICODE).

/// One signature vector from `Fixtures/prodamus-vectors.json`.
struct ProdamusSignatureVector: Sendable, CustomTestStringConvertible {
    let name: String
    let secret: String
    let sign: String
    let canonicalJSON: String
    /// The raw urlencoded webhook body, for vectors given as a body.
    let body: String?
    let data: PHPArray

    var testDescription: String { name }
}

enum ProdamusVectorFixture {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Every vector in the fixture, in file order.
    static func load() throws -> [ProdamusSignatureVector] {
        guard let url = Bundle.module.url(forResource: "prodamus-vectors", withExtension: "json", subdirectory: "Fixtures") else {
            throw Malformed(description: "Fixtures/prodamus-vectors.json is not in the test bundle")
        }
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let vectors = (root as? [String: Any])?["vectors"] as? [[String: Any]] else {
            throw Malformed(description: "no \"vectors\" array")
        }
        return try vectors.map { vector in
            guard let name = vector["name"] as? String, let secret = vector["secret"] as? String,
                  let sign = vector["sign"] as? String, let json = vector["canonical_json"] as? String else {
                throw Malformed(description: "vector without name/secret/sign/canonical_json")
            }
            if let body = vector["body"] as? String {
                return ProdamusSignatureVector(name: name, secret: secret, sign: sign, canonicalJSON: json, body: body,
                                       data: PHPForm.parse(urlencoded: Array(body.utf8)))
            }
            guard let data = try phpValue(fromJSON: vector["data"] as Any).array else {
                throw Malformed(description: "\(name): neither body nor data object")
            }
            return ProdamusSignatureVector(name: name, secret: secret, sign: sign, canonicalJSON: json, body: nil, data: data)
        }
    }

    /// JSON as PHP would hold it after `json_decode($x, true)`: lists get keys 0…n-1.
    private static func phpValue(fromJSON value: Any) throws -> PHPValue {
        switch value {
        case let text as String:
            return .string(text)
        case let list as [Any]:
            var array = PHPArray()
            for element in list { array.append(try phpValue(fromJSON: element)) }
            return .array(array)
        case let object as [String: Any]:
            var array = PHPArray()
            for (key, element) in object { array[PHPKey(key)] = try phpValue(fromJSON: element) }
            return .array(array)
        default:
            throw Malformed(description: "unexpected JSON value \(value)")
        }
    }
}

/// `serialize()` of an array, as PHP prints it: shows integer vs string keys and order.
fileprivate func phpSerialize(_ array: PHPArray) -> String {
    var out = "a:\(array.count):{"
    for entry in array.entries {
        switch entry.key {
        case .int(let index): out += "i:\(index);"
        case .string(let name): out += "s:\(name.utf8.count):\"\(name)\";"
        }
        switch entry.value {
        case .string(let text): out += "s:\(text.utf8.count):\"\(text)\";"
        case .array(let inner): out += phpSerialize(inner)
        }
    }
    return out + "}"
}

/// The form fields that make up `array`, e.g. `("products[0][name]", "…")`, in order.
fileprivate func formFields(_ array: PHPArray, prefix: String? = nil) -> [(name: String, value: String)] {
    array.entries.flatMap { entry -> [(name: String, value: String)] in
        let name = prefix.map { "\($0)[\(entry.key)]" } ?? entry.key.description
        switch entry.value {
        case .string(let text): return [(name, text)]
        case .array(let inner): return formFields(inner, prefix: name)
        }
    }
}

/// A multipart/form-data body with one part per field.
fileprivate func multipartBody(_ fields: [(name: String, value: String)], boundary: String) -> [UInt8] {
    var body = ""
    for field in fields {
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\"\r\n\r\n\(field.value)\r\n"
    }
    return Array((body + "--\(boundary)--\r\n").utf8)
}

fileprivate let demoSecret = "2y2aw4oknnke80bp1a8fniwuuq7tdkwmmuq7vwi4nzbr8z1182ftbn6p8mhw3bhz"

@Suite("Prodamus signature vectors")
struct ProdamusVectorTests {
    @Test func fixtureHasAllReferenceVectors() throws {
        let vectors = try ProdamusVectorFixture.load()
        #expect(vectors.count == 5)
        #expect(vectors.filter { $0.body != nil }.count == 2)
    }

    @Test(arguments: try ProdamusVectorFixture.load())
    func vector(_ vector: ProdamusSignatureVector) {
        #expect(ProdamusSignature.canonicalJSON(vector.data) == vector.canonicalJSON)
        #expect(ProdamusSignature.sign(vector.data, secret: vector.secret) == vector.sign)
        #expect(ProdamusSignature.verify(vector.data, secret: vector.secret, signature: vector.sign))
        #expect(ProdamusSignature.verify(vector.data, secret: vector.secret, signature: vector.sign.uppercased()))
        #expect(!ProdamusSignature.verify(vector.data, secret: vector.secret + "demo", signature: vector.sign))
    }

    /// Prodamus posts `http_build_query` output, so re-encoding the parsed body gives it back.
    @Test(arguments: try ProdamusVectorFixture.load().filter { $0.body != nil })
    func bodyVectorRoundTrips(_ vector: ProdamusSignatureVector) {
        #expect(PHPForm.buildQuery(vector.data) == vector.body)
    }

    /// The docs say webhooks may come as multipart/form-data: the same fields must verify.
    @Test(arguments: try ProdamusVectorFixture.load())
    func vectorAsMultipart(_ vector: ProdamusSignatureVector) throws {
        let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
        let parsed = try PHPForm.parse(multipart: multipartBody(formFields(vector.data), boundary: boundary), boundary: boundary)
        #expect(parsed == vector.data)
        #expect(ProdamusSignature.verify(parsed, secret: vector.secret, signature: vector.sign))
    }
}

@Suite("Prodamus signature checks")
struct ProdamusSignatureCheckTests {
    let webhook: ProdamusSignatureVector

    init() throws {
        webhook = try #require(try ProdamusVectorFixture.load().first { $0.body != nil })
    }

    @Test func forgedSignatureIsRejected() {
        var forged = Array(webhook.sign)
        forged[10] = forged[10] == "0" ? "1" : "0"
        #expect(!ProdamusSignature.verify(webhook.data, secret: webhook.secret, signature: String(forged)))
    }

    @Test func truncatedOrPaddedSignatureIsRejected() {
        #expect(!ProdamusSignature.verify(webhook.data, secret: webhook.secret, signature: String(webhook.sign.dropLast())))
        #expect(!ProdamusSignature.verify(webhook.data, secret: webhook.secret, signature: webhook.sign + "0"))
        #expect(!ProdamusSignature.verify(webhook.data, secret: webhook.secret, signature: " " + webhook.sign))
    }

    @Test func missingSignatureIsRejected() {
        #expect(!ProdamusSignature.verify(webhook.data, secret: webhook.secret, signature: ""))
        #expect(!ProdamusSignature.verify(PHPArray(), secret: webhook.secret, signature: ""))
    }

    @Test func hexCaseDoesNotMatter() {
        let mixed = String(webhook.sign.enumerated().map { $0.offset.isMultiple(of: 2) ? Character($0.element.uppercased()) : $0.element })
        #expect(ProdamusSignature.verify(webhook.data, secret: webhook.secret, signature: webhook.sign.uppercased()))
        #expect(ProdamusSignature.verify(webhook.data, secret: webhook.secret, signature: mixed))
    }

    @Test func wrongSecretIsRejected() {
        #expect(!ProdamusSignature.verify(webhook.data, secret: "test_secret_key", signature: webhook.sign))
        #expect(!ProdamusSignature.verify(webhook.data, secret: "", signature: webhook.sign))
    }

    @Test func reorderedFieldsStillVerify() throws {
        let body = try #require(webhook.body)
        let reordered = body.split(separator: "&").reversed().joined(separator: "&")
        #expect(reordered != body)
        let parsed = PHPForm.parse(urlencoded: Array(reordered.utf8))
        #expect(parsed != webhook.data)
        #expect(ProdamusSignature.canonicalJSON(parsed) == webhook.canonicalJSON)
        #expect(ProdamusSignature.verify(parsed, secret: webhook.secret, signature: webhook.sign))
    }

    @Test func tamperedValueIsRejected() throws {
        let body = try #require(webhook.body)
        let tampered = body.replacingOccurrences(of: "sum=100.00", with: "sum=1.00")
        #expect(tampered != body)
        #expect(!ProdamusSignature.verify(PHPForm.parse(urlencoded: Array(tampered.utf8)), secret: webhook.secret, signature: webhook.sign))
    }

    @Test func extraOrMissingFieldIsRejected() throws {
        var extra = webhook.data
        extra["is_test"] = "1"
        #expect(!ProdamusSignature.verify(extra, secret: webhook.secret, signature: webhook.sign))
        var missing = webhook.data
        missing["customer_extra"] = nil
        #expect(!ProdamusSignature.verify(missing, secret: webhook.secret, signature: webhook.sign))
    }

    @Test func flatKeysAreNotTheSignedForm() {
        var flat = PHPArray()
        for field in formFields(webhook.data) { flat[PHPKey(field.name)] = .string(field.value) }
        #expect(!ProdamusSignature.verify(flat, secret: webhook.secret, signature: webhook.sign))
    }

    /// Slash, cyrillic, «», en dash, emoji, U+2028/U+2029, tab, quote and backslash (PHP 8.2).
    @Test func slashCyrillicAndLineSeparator() {
        let data: PHPArray = [
            "urlSuccess": "https://hub.example/ok",
            "order_id": "A/B",
            "customer_extra": "Сессия\u{2028}/1\u{2029}",
            "products": [["name": "Курс «Запуск» – 1/2 😀", "price": "3000.00", "quantity": "1", "sku": "tab\there\"q\"\\"]],
            "do": "link",
        ]
        let json = #"{"customer_extra":"Сессия\u2028\/1\u2029","do":"link","order_id":"A\/B","products":[{"name":"Курс «Запуск» – 1\/2 😀","price":"3000.00","quantity":"1","sku":"tab\there\"q\"\\"}],"urlSuccess":"https:\/\/hub.example\/ok"}"#
        #expect(ProdamusSignature.canonicalJSON(data) == json)
        #expect(ProdamusSignature.sign(data, secret: "test_secret_key") == "7e3d98b5f67cbfcb7fccf9dcff09414571709a68e18b8b42b2014b6afbc07ba6")
        let query = "urlSuccess=https%3A%2F%2Fhub.example%2Fok&order_id=A%2FB&customer_extra=%D0%A1%D0%B5%D1%81%D1%81%D0%B8%D1%8F%E2%80%A8%2F1%E2%80%A9&products%5B0%5D%5Bname%5D=%D0%9A%D1%83%D1%80%D1%81+%C2%AB%D0%97%D0%B0%D0%BF%D1%83%D1%81%D0%BA%C2%BB+%E2%80%93+1%2F2+%F0%9F%98%80&products%5B0%5D%5Bprice%5D=3000.00&products%5B0%5D%5Bquantity%5D=1&products%5B0%5D%5Bsku%5D=tab%09here%22q%22%5C&do=link"
        #expect(PHPForm.buildQuery(data) == query)
        #expect(PHPForm.parse(urlencoded: Array(query.utf8)) == data)
    }

    /// Control characters become `\b \f \n \r` or `\u00xx`; DEL and `<>&'` stay raw (PHP 8.2).
    @Test func controlCharacters() {
        let data: PHPArray = ["a": "\u{01}\u{1F}\u{7F}<>&'\u{08}\u{0C}\n\r"]
        #expect(ProdamusSignature.canonicalJSON(data) == "{\"a\":\"\\u0001\\u001f\u{7F}<>&'\\b\\f\\n\\r\"}")
        #expect(ProdamusSignature.sign(data, secret: "k") == "60ab0e7cca8f7c95f1a025e79355cbaf6d2e8a677a1fb8c2e3b60bd58ae18413")
    }

    /// Twelve products inserted 11…0 sort numerically into a list; a gap makes an object (PHP 8.2).
    @Test func integerKeysSortNumerically() {
        var products = PHPArray()
        for index in (0...11).reversed() { products[.int(index)] = ["name": .string("n\(index)")] }
        let data: PHPArray = ["products": .array(products), "gap": [0: "a", 2: "c"], "empty": ""]
        let items = (0...11).map { "{\"name\":\"n\($0)\"}" }.joined(separator: ",")
        #expect(ProdamusSignature.canonicalJSON(data) == "{\"empty\":\"\",\"gap\":{\"0\":\"a\",\"2\":\"c\"},\"products\":[\(items)]}")
        #expect(ProdamusSignature.sign(data, secret: "test_secret_key") == "10dcfb125e90a4c5eb05fce7c2226098caf14431bf96bb6317841a9d1e0325d9")
    }

    /// ksort(SORT_REGULAR): numeric strings numerically (ties keep their order), other
    /// strings by UTF-8 bytes, so "e" + U+0301 sorts before a precomposed "é" (PHP 8.2).
    @Test func stringKeyOrder() {
        let data: PHPArray = ["b": "", "\u{E9}": "", "e\u{301}": "", "Z": "", "10.0": "", "9.5": "", "1e1": "", "a": ""]
        let expected = "{\"9.5\":\"\",\"10.0\":\"\",\"1e1\":\"\",\"Z\":\"\",\"a\":\"\",\"b\":\"\",\"e\u{301}\":\"\",\"\u{E9}\":\"\"}"
        #expect(ProdamusSignature.canonicalJSON(data) == expected)
        #expect(ProdamusSignature.canonicalJSON(PHPArray()) == "[]")
    }

    /// PHP's json_encode fails beyond 512 levels and Hmac::create then signs "".
    @Test func excessiveNestingSignsTheEmptyString() {
        func nested(_ depth: Int) -> PHPArray {
            var array: PHPArray = ["leaf": "x"]
            for _ in 1..<depth { array = ["a": .array(array)] }
            return array
        }
        #expect(!ProdamusSignature.canonicalJSON(nested(512)).isEmpty)
        #expect(ProdamusSignature.canonicalJSON(nested(513)).isEmpty)
    }

    /// The worked payment-link example: parse, drop `signature`, verify with the demo key.
    @Test func paymentLinkExample() throws {
        let query = "order_id=1234&customer_phone=%2B79990000000&products%5B0%5D%5Bname%5D=%D0%A1%D0%B5%D1%81%D1%81%D0%B8%D1%8F+60+%D0%BC%D0%B8%D0%BD&products%5B0%5D%5Bprice%5D=3000.00&products%5B0%5D%5Bquantity%5D=1&products%5B0%5D%5Bsku%5D=session-60&do=pay&urlSuccess=https%3A%2F%2Fhub.example%2Fok&urlReturn=https%3A%2F%2Fhub.example%2Fback&customer_extra=booking+42&signature=2016a7640f0dca7e63395025b5964cd99f561836246af0f15c4958bb5ef5e80d"
        var data = PHPForm.parse(urlencoded: Array(query.utf8))
        #expect(PHPForm.buildQuery(data) == query)
        let signature = try #require(data.string("signature"))
        data["signature"] = nil
        #expect(ProdamusSignature.verify(data, secret: demoSecret, signature: signature))
        #expect(ProdamusSignature.sign(data, secret: demoSecret) == signature)
        #expect(data.array("products")?.array("0")?.string("name") == "Сессия 60 мин")
    }
}

@Suite("PHP form decoding")
struct PHPFormTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let body: String
        /// PHP 8.2 `serialize($_POST)`.
        let expected: String
        var testDescription: String { body.debugDescription }
    }

    static let urlencodedCases: [Case] = [
        Case(body: "a=1&b", expected: #"a:2:{s:1:"a";s:1:"1";s:1:"b";s:0:"";}"#),
        Case(body: "a=1&&=2&b=3&", expected: #"a:2:{s:1:"a";s:1:"1";s:1:"b";s:1:"3";}"#),
        Case(body: "+a+b=%20x+y", expected: #"a:1:{s:3:"a_b";s:4:" x y";}"#),
        Case(body: "a.b=1&a%20c=2&a[b.c]=3", expected: #"a:3:{s:3:"a_b";s:1:"1";s:3:"a_c";s:1:"2";s:1:"a";a:1:{s:3:"b.c";s:1:"3";}}"#),
        Case(body: "a[b][c]=1&a[b][d]=2", expected: #"a:1:{s:1:"a";a:1:{s:1:"b";a:2:{s:1:"c";s:1:"1";s:1:"d";s:1:"2";}}}"#),
        Case(body: "a[]=x&a[]=y&a[5]=z&a[]=w", expected: #"a:1:{s:1:"a";a:4:{i:0;s:1:"x";i:1;s:1:"y";i:5;s:1:"z";i:6;s:1:"w";}}"#),
        Case(body: "a[ ]=x&a[  ]=y&a[ b]=z", expected: #"a:1:{s:1:"a";a:3:{i:0;s:1:"x";s:2:"  ";s:1:"y";s:2:" b";s:1:"z";}}"#),
        Case(body: "a[-3]=x&a[]=y", expected: #"a:1:{s:1:"a";a:2:{i:-3;s:1:"x";i:-2;s:1:"y";}}"#),
        Case(body: "k[0]=a&k[01]=b&k[-0]=c&k[+1]=d&k[-7]=e&k[9223372036854775807]=f&k[9223372036854775808]=g",
             expected: #"a:1:{s:1:"k";a:7:{i:0;s:1:"a";s:2:"01";s:1:"b";s:2:"-0";s:1:"c";s:2:" 1";s:1:"d";i:-7;s:1:"e";i:9223372036854775807;s:1:"f";s:19:"9223372036854775808";s:1:"g";}}"#),
        Case(body: "a[b]x=1&a[c]]=2&a[d][e]f[g]=3", expected: #"a:1:{s:1:"a";a:3:{s:1:"b";s:1:"1";s:1:"c";s:1:"2";s:1:"d";a:1:{s:1:"e";s:1:"3";}}}"#),
        Case(body: "a[b.c=1&d[e][f=2&g[][h=3", expected: #"a:3:{s:5:"a_b_c";s:1:"1";s:1:"d";a:1:{s:1:"e";s:1:"2";}s:1:"g";a:1:{i:0;s:1:"3";}}"#),
        Case(body: "a=1&a[x]=2&b[x]=3&b=4", expected: #"a:2:{s:1:"a";a:1:{s:1:"x";s:1:"2";}s:1:"b";s:1:"4";}"#),
        Case(body: "a%00b=1&c=%00d", expected: "a:2:{s:1:\"a\";s:1:\"1\";s:1:\"c\";s:2:\"\u{0}d\";}"),
        Case(body: "%zz=%4&%41=%g1%2", expected: #"a:2:{s:3:"%zz";s:2:"%4";s:1:"A";s:5:"%g1%2";}"#),
        Case(body: "[x]=1&=2& =3", expected: "a:0:{}"),
        Case(body: "p[1][n]=b&p[0][n]=a", expected: #"a:1:{s:1:"p";a:2:{i:1;a:1:{s:1:"n";s:1:"b";}i:0;a:1:{s:1:"n";s:1:"a";}}}"#),
        Case(body: "x=1&x=2&y=3&x=4", expected: #"a:2:{s:1:"x";s:1:"4";s:1:"y";s:1:"3";}"#),
        Case(body: "%D0%B8%D0%BC%D1%8F=%D0%97%D0%BD%D0%B0%D1%87%D0%B5%D0%BD%D0%B8%D0%B5", expected: #"a:1:{s:6:"имя";s:16:"Значение";}"#),
        Case(body: "a[0][1][2][3]=deep", expected: #"a:1:{s:1:"a";a:1:{i:0;a:1:{i:1;a:1:{i:2;a:1:{i:3;s:4:"deep";}}}}}"#),
    ]

    @Test(arguments: urlencodedCases)
    func urlencoded(_ testCase: Case) {
        #expect(phpSerialize(PHPForm.parse(urlencoded: Array(testCase.body.utf8))) == testCase.expected)
    }

    static let multipartCases: [Case] = [
        Case(body: "--B\r\nContent-Disposition: form-data; name=\"products[0][name]\"\r\n\r\nКурс «Запуск»\r\n--B\r\nContent-Disposition: form-data; name=\"products[0][price]\"\r\n\r\n3000.00\r\n--B\r\nContent-Disposition: form-data; name=\"sum\"\r\n\r\n3000.00\r\n--B--\r\n",
             expected: #"a:2:{s:8:"products";a:1:{i:0;a:2:{s:4:"name";s:25:"Курс «Запуск»";s:5:"price";s:7:"3000.00";}}s:3:"sum";s:7:"3000.00";}"#),
        Case(body: "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nline1\r\nline2\r\n--B\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n\r\n--B--",
             expected: "a:2:{s:1:\"a\";s:12:\"line1\r\nline2\";s:1:\"b\";s:0:\"\";}"),
        Case(body: "--B\r\nContent-Disposition: form-data; name=\"a b.c\"\r\n\r\n%20+\r\n--B--", expected: #"a:1:{s:5:"a_b_c";s:4:"%20+";}"#),
        Case(body: "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\nfile body\r\n--B\r\nContent-Disposition: form-data; name=\"g\"\r\n\r\n1\r\n--B--",
             expected: #"a:1:{s:1:"g";s:1:"1";}"#),
        Case(body: "preamble\r\n--B\r\nContent-Type: text/plain\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nX-No-Disposition: 1\r\n\r\nignored\r\n--B--\r\nepilogue",
             expected: #"a:1:{s:1:"a";s:1:"1";}"#),
        Case(body: "--B\nContent-Disposition: form-data; name=\"lf\"\n\nonly\n--B--", expected: #"a:1:{s:2:"lf";s:4:"only";}"#),
        Case(body: "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\ncut off",
             expected: #"a:2:{s:1:"a";s:1:"1";s:1:"b";s:7:"cut off";}"#),
        Case(body: "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n--B--",
             expected: #"a:1:{s:1:"a";s:1:"1";}"#),
        Case(body: "--B\r\nContent-Disposition: form-data; name='q\\'r'; x=\"y;z\"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name=bare\r\n\r\n2\r\n--B--",
             expected: #"a:2:{s:3:"q'r";s:1:"1";s:4:"bare";s:1:"2";}"#),
        Case(body: "--B\r\nContent-Disposition: form-data; name=\"v\"\r\n\r\n--B not a boundary\r\n--Bx\r\n--B--",
             expected: #"a:1:{s:1:"v";s:18:"--B not a boundary";}"#),
    ]

    @Test(arguments: multipartCases)
    func multipart(_ testCase: Case) throws {
        #expect(phpSerialize(try PHPForm.parse(multipart: Array(testCase.body.utf8), boundary: "B")) == testCase.expected)
    }

    @Test func multipartWithoutDelimiterThrows() {
        #expect(throws: PHPForm.MultipartError.noDelimiter) {
            try PHPForm.parse(multipart: Array("a=1&b=2".utf8), boundary: "B")
        }
        #expect(throws: PHPForm.MultipartError.noDelimiter) {
            try PHPForm.parse(multipart: [], boundary: "B")
        }
    }

    @Test func multipartBoundaryFromContentType() {
        #expect(PHPForm.multipartBoundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(PHPForm.multipartBoundary(contentType: "multipart/form-data; boundary=\"a b;c\"") == "a b;c")
        #expect(PHPForm.multipartBoundary(contentType: "multipart/form-data; BOUNDARY=abc; charset=x") == "abc")
        #expect(PHPForm.multipartBoundary(contentType: "multipart/form-data; boundary=abc, x") == "abc")
        #expect(PHPForm.multipartBoundary(contentType: "multipart/form-data; charset=utf-8; boundary = abc") == " abc")
        #expect(PHPForm.multipartBoundary(contentType: "multipart/form-data; boundary=\"abc") == nil)
        #expect(PHPForm.multipartBoundary(contentType: "multipart/form-data") == nil)
    }

    /// PHP registers the pair that crosses max_input_vars (1000), then stops; empty segments count.
    @Test func maxInputVars() {
        let body = (0..<1005).map { "v\($0)=1" }.joined(separator: "&")
        let parsed = PHPForm.parse(urlencoded: Array(body.utf8))
        #expect(parsed.count == 1001)
        #expect(parsed["v1000"] != nil && parsed["v1001"] == nil)
        let withEmpty = String(repeating: "&", count: 500) + (0..<600).map { "v\($0)=1" }.joined(separator: "&")
        #expect(PHPForm.parse(urlencoded: Array(withEmpty.utf8)).count == 501)
    }

    /// Multipart stops registering variables after 1000.
    @Test func multipartMaxInputVars() throws {
        let fields = (0..<1003).map { (name: "v\($0)", value: "1") }
        let parsed = try PHPForm.parse(multipart: multipartBody(fields, boundary: "B"), boundary: "B")
        #expect(parsed.count == 1000)
    }

    /// 64 levels of brackets are kept; a 65th drops the whole top-level variable.
    @Test func nestingLimit() {
        let deep = "a" + String(repeating: "[x]", count: 64) + "=1"
        var value = PHPForm.parse(urlencoded: Array(deep.utf8))["a"]
        for _ in 0..<64 { value = value?.array?["x"] }
        #expect(value == "1")
        let tooDeep = "b=1&a=0&a[q]=2&a" + String(repeating: "[x]", count: 65) + "=1&c=3"
        #expect(phpSerialize(PHPForm.parse(urlencoded: Array(tooDeep.utf8))) == #"a:2:{s:1:"b";s:1:"1";s:1:"c";s:1:"3";}"#)
    }

    @Test func buildQueryEncodesLikePHP() {
        let data: PHPArray = ["a b": "x y/z", "p": .array([0: ["n": "Ы", "e": .array(PHPArray())], 5: "q"]), 7: "s", "~": "~"]
        #expect(PHPForm.buildQuery(data) == "a+b=x+y%2Fz&p%5B0%5D%5Bn%5D=%D0%AB&p%5B5%5D=q&7=s&%7E=%7E")
    }
}

@Suite("PHP arrays")
struct PHPArrayTests {
    @Test func numericStringKeysAreIntegers() {
        var array = PHPArray()
        array["0"] = "zero"
        array["01"] = "padded"
        #expect(array.keys == [.int(0), .string("01")])
        #expect(array["0"] == "zero")
        #expect(array[.string("0")] == "zero")
        #expect(array.string("01") == "padded")
        #expect(PHPKey("-9223372036854775808") == .int(Int.min))
        #expect(PHPKey("9223372036854775808") == .string("9223372036854775808"))
        #expect(PHPKey("-0") == .string("-0"))
    }

    @Test func appendFollowsPHP82() {
        var array: PHPArray = [-3: "a"]
        array.append("b")
        #expect(array.keys == [.int(-3), .int(-2)])
        var full: PHPArray = [.int(Int.max): "a"]
        let appended = full.append("b")
        #expect(!appended)
        #expect(full.count == 1)
    }

    @Test func overwriteKeepsPositionAndRemoveCloses() {
        var array: PHPArray = ["a": "1", "b": "2", "c": "3"]
        array["a"] = "4"
        array["b"] = nil
        #expect(array.keys == ["a", "c"])
        #expect(array.string("a") == "4")
    }

    /// PHP keys are bytes: a precomposed "é" and "e" + U+0301 are two keys.
    @Test func keysCompareByBytes() {
        let array: PHPArray = ["\u{E9}": "1", "e\u{301}": "2"]
        #expect(array.count == 2)
        #expect(array.string("\u{E9}") == "1")
        #expect(array.string("e\u{301}") == "2")
        #expect(PHPValue.string("\u{E9}") != PHPValue.string("e\u{301}"))
    }
}
