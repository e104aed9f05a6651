import Flows

/// HTML helpers shared by the emulators' pages (payment page, Telegram chat page).
enum EmulatorHTML {
    /// A self-contained page (no external assets) for a phone: `style` is the page's CSS,
    /// `body` the inside of `<body>`.
    static func document(title: String, style: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="ru">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>\(body)</body>
        </html>

        """
    }

    /// Text safe inside HTML elements and double-quoted attributes.
    static func escape(_ text: String) -> String { text.htmlEscaped }
}
