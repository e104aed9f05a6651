extension String {
    /// Text safe inside HTML elements and quoted attributes. Escaped per Unicode scalar: a `"`
    /// followed by a combining mark (U+0301) is one `Character` that is not `"`, so an escape
    /// that compares Characters lets the quote through and the text closes the attribute.
    public var htmlEscaped: String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
