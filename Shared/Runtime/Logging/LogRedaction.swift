/// Defence in depth for "no phone numbers or tokens in logs": code should never log them,
/// and whatever slips through is masked before a line is written.
public enum LogRedaction {
    /// Masks bearer tokens, JWT-shaped strings and runs of 7 or more digits (phone numbers,
    /// with or without a leading +). Shorter numbers (counts, ports, ids) are left alone.
    public static func redact(_ text: String) -> String {
        guard text.contains(where: { $0.isNumber || $0 == "." }) else { return text }
        var result = redactBearer(text)
        result = redactJWTs(result)
        return redactDigitRuns(result)
    }

    private static func redactBearer(_ text: String) -> String {
        guard let range = text.range(of: "Bearer ", options: []) else { return text }
        var tail = text[range.upperBound...]
        while let first = tail.first, !first.isWhitespace, first != "\"" { tail.removeFirst() }
        return String(text[..<range.upperBound]) + "[REDACTED]" + redactBearer(String(tail))
    }

    /// Three dot-separated base64url segments starting with "eyJ" (a JSON header).
    private static func redactJWTs(_ text: String) -> String {
        guard text.contains("eyJ") else { return text }
        return text.split(separator: " ", omittingEmptySubsequences: false).map { word in
            let parts = word.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 3, word.hasPrefix("eyJ"), parts.allSatisfy({ $0.count >= 2 }) { return "[REDACTED-TOKEN]" }
            return String(word)
        }.joined(separator: " ")
    }

    private static func redactDigitRuns(_ text: String) -> String {
        var output = ""
        var run = ""
        func flush() {
            // Separators after the last digit belong to the text, not to the number.
            var trailing = ""
            while let last = run.last, !last.isNumber { trailing.insert(run.removeLast(), at: trailing.startIndex) }
            let digits = run.filter(\.isNumber).count
            output += digits >= 7 ? String(repeating: "*", count: max(0, run.count - 4)) + run.suffix(4) : run
            output += trailing
            run = ""
        }
        for character in text {
            if character.isASCII && character.isNumber || (character == "+" && run.isEmpty) || (!run.isEmpty && (character == "-" || character == " ") && run.last?.isNumber == true) {
                run.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }
}
