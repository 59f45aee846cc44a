/// What Tab does to the line being typed: text to insert at the cursor, and names to show when the
/// word is ambiguous.
public struct Completion: Equatable, Sendable {
    /// Text to insert at the cursor: the rest of the unique completion (escaped, with a trailing space
    /// or slash), or the longest prefix all candidates share; empty when nothing can be added.
    public var insert: String
    /// The candidates to list below the line when there are several; empty when the completion is
    /// unique or there is none.
    public var candidates: [String]

    public init(insert: String = "", candidates: [String] = []) {
        self.insert = insert
        self.candidates = candidates
    }

    /// Nothing to insert and nothing to show.
    public static let none = Completion()
}
