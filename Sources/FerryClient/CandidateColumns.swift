/// Lays completion candidates out as `ls` does: in columns, filled top to bottom then left to right,
/// as many columns as fit the terminal's width.
enum CandidateColumns {
    /// Space between two columns.
    static let gap = 2

    /// The lines to print for `names` on a terminal `width` columns wide (without newlines, trailing
    /// spaces trimmed).
    static func lines(_ names: [String], width: Int) -> [String] {
        guard !names.isEmpty else { return [] }
        let widest = names.map(\.count).max() ?? 0
        let columns = max(1, (width + gap) / (widest + gap))
        let rows = (names.count + columns - 1) / columns
        return (0..<rows).map { row in
            var line = ""
            for column in 0..<columns {
                let index = column * rows + row
                guard index < names.count else { break }
                let name = names[index]
                line += name
                if (column + 1) * rows + row < names.count {
                    line += String(repeating: " ", count: widest + gap - name.count)
                }
            }
            return line
        }
    }
}
