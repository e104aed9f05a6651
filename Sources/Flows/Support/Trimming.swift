extension String {
    /// Without leading and trailing white space (Unicode White_Space only: invisible format
    /// characters such as U+200B are part of what the client typed and are kept). Pure Swift:
    /// Foundation's `trimmingCharacters(in:)` bridges through `NSString` and costs several times more.
    public var trimmed: String {
        guard let start = firstIndex(where: { !$0.isWhitespace }), let end = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[start...end])
    }
}
