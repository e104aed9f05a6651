import Flows
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

    /// `notUTF8`: fields whose bytes were not UTF-8 text; what they hold is not what was typed.
    init(_ fields: [String: String], notUTF8: Set<String> = []) {
        values = [:]
        errors = [:]
        for name in [Field.fullName, Field.phone, Field.city, Field.email] {
            values[name] = ContactFormat.cleaned(fields[name] ?? "", isPhoneOrEmail: [Field.phone, Field.email].contains(name))
        }
        check(Field.fullName, min: 2, max: 200, missing: "Укажите фамилию, имя и отчество")
        check(Field.city, min: 2, max: 100, missing: "Укажите город")
        let email = values[Field.email] ?? ""
        if email.isEmpty {
            errors[Field.email] = "Укажите e-mail"
        } else if email.unicodeScalars.count > 254 || !ContactFormat.isEmail(email) {
            errors[Field.email] = "Проверьте e-mail: он должен выглядеть как name@example.ru"
        }
        let rawPhone = values[Field.phone] ?? ""
        if rawPhone.isEmpty {
            errors[Field.phone] = "Укажите номер телефона"
        } else if let normalised = ContactFormat.phone(rawPhone) {
            phone = normalised
        } else {
            errors[Field.phone] = "Проверьте номер: например, +7 999 123-45-67 или 8 (999) 123-45-67"
        }
        if !["on", "1", "yes", "true"].contains(fields[Field.consent] ?? "") {
            errors[Field.consent] = "Нужно согласие с офертой и на обработку персональных данных"
        }
        for name in notUTF8 where values[name] != nil {
            errors[name] = "Недопустимые символы"
        }
    }

    private mutating func check(_ name: String, min: Int, max: Int, missing: String) {
        let value = values[name] ?? ""
        if value.isEmpty || !ContactFormat.hasLetter(value) {
            errors[name] = missing
        } else if value.count < min {
            errors[name] = "Слишком коротко"
        } else if value.unicodeScalars.count > max {
            // Code points, not letters as the eye counts them: combining marks add to a letter
            // without limit ("Ив" and 20,000 accents is two letters), and the stored size must not.
            errors[name] = "Не длиннее \(max) символов"
            values[name] = String(String.UnicodeScalarView(value.unicodeScalars.prefix(max)))
        } else if ContactFormat.hasDisguisingCharacters(value) {
            errors[name] = "Недопустимые символы"
        }
    }
}
