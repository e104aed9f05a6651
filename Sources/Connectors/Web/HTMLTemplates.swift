import Flows
import Mustache

/// Mustache templates whose `{{value}}`s are escaped with `String.htmlEscaped`. swift-mustache's
/// own HTML escape compares Characters, so a `"`, `<` or `>` joined to a combining mark went
/// into the page as it was: a name could close the form's `value="…"` and add a tag.
public enum HTMLTemplates {
    private struct ScalarEscaped: MustacheContentType {
        func escapeText(_ text: String) -> String { text.htmlEscaped }
    }

    /// Registered before any template is parsed: the pragma is looked up while parsing.
    private static let registered: Void = MustacheContentTypes.register(ScalarEscaped(), named: "HUBHTML")

    /// A library of the templates (name, text), each escaping its values per scalar.
    public static func library(_ templates: [(name: String, text: String)]) -> MustacheLibrary {
        _ = registered
        var library = MustacheLibrary()
        for (name, text) in templates {
            // The templates are constants of their files; a parse error is a programming error the tests catch.
            try! library.register("{{% CONTENT_TYPE: HUBHTML }}" + text, named: name)
        }
        return library
    }
}
