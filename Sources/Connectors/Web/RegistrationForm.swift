import Foundation

/// The landing page's form: what the client typed, checked and normalised.
/// Errors are in Russian, keyed by field, to be shown next to the fields with the values kept.
struct RegistrationForm: Sendable {
    enum Field {
        static let fullName = "full_name"
        static let phone = "phone"
        static let city = "city"
        static let email = "email"
        static let consent = "consent"
    }

    /// What was typed (trimmed), to put back into the form.
    var values: [String: String]
    /// Field → message; empty when the form is valid.
    var errors: [String: String]
    /// The phone in E.164 (`+79991234567`), when valid.
    var phone: String?

    var isValid: Bool { errors.isEmpty }

    init(_ fields: [String: String]) {
        values = [:]
        errors = [:]
        for name in [Field.fullName, Field.phone, Field.city, Field.email] {
            values[name] = (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        check(Field.fullName, min: 2, max: 200, missing: "Укажите фамилию, имя и отчество")
        check(Field.city, min: 2, max: 100, missing: "Укажите город")
        let email = values[Field.email] ?? ""
        if email.isEmpty {
            errors[Field.email] = "Укажите e-mail"
        } else if email.count > 254 || !RegistrationForm.isEmail(email) {
            errors[Field.email] = "Проверьте e-mail: он должен выглядеть как name@example.ru"
        }
        let rawPhone = values[Field.phone] ?? ""
        if rawPhone.isEmpty {
            errors[Field.phone] = "Укажите номер телефона"
        } else if let normalised = RegistrationForm.normalisePhone(rawPhone) {
            phone = normalised
        } else {
            errors[Field.phone] = "Проверьте номер: например, +7 999 123-45-67 или 8 (999) 123-45-67"
        }
        if !["on", "1", "yes", "true"].contains(fields[Field.consent] ?? "") {
            errors[Field.consent] = "Нужно согласие с офертой и на обработку персональных данных"
        }
    }

    private mutating func check(_ name: String, min: Int, max: Int, missing: String) {
        let value = values[name] ?? ""
        if value.isEmpty {
            errors[name] = missing
        } else if value.count < min {
            errors[name] = "Слишком коротко"
        } else if value.count > max {
            errors[name] = "Не длиннее \(max) символов"
            values[name] = String(value.prefix(max))
        } else if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            errors[name] = "Недопустимые символы"
        }
    }

    /// Russian numbers in any usual spelling (`8 (999) 123-45-67`, `+7 999…`, `9991234567`) to
    /// `+7XXXXXXXXXX`; other countries' numbers written with `+` are kept as E.164.
    static func normalisePhone(_ text: String) -> String? {
        let allowed = CharacterSet(charactersIn: "0123456789+()-. ")
        guard text.unicodeScalars.allSatisfy({ allowed.contains($0) }), text.count <= 32 else { return nil }
        let plus = text.hasPrefix("+")
        guard !text.dropFirst().contains("+") else { return nil }
        let digits = text.filter(\.isNumber)
        switch (plus, digits.count, digits.first) {
        case (false, 11, "8"), (false, 11, "7"), (true, 11, "7"): return "+7" + digits.dropFirst()
        case (false, 10, "9"): return "+7" + digits
        case (true, _, "7"): return nil  // +7 numbers have exactly 10 digits after the 7
        case (true, 8...15, _) where digits.first != "0": return "+" + digits
        default: return nil
        }
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else { return false }
        let local = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".!#$%&'*+/=?^_`{|}~-"))
        let host = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-"))
        return parts[0].unicodeScalars.allSatisfy { local.contains($0) } && domain.unicodeScalars.allSatisfy { host.contains($0) }
            && (labels.last?.count ?? 0) >= 2
    }
}
