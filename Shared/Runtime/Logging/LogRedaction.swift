/// Defence in depth for "no phone numbers or tokens in logs": code should never log them,
/// and whatever slips through is masked before a line is written.
public enum LogRedaction {
    /// Masks bearer tokens, JWT-shaped strings and phone-shaped numbers: runs of 7 or more
    /// digits, with or without a leading + and with spaces or dashes between groups of at
    /// least three (`138 0013 8000`, `+86-138-0013-8000`). Shorter numbers (counts, ports)
    /// and dates (`2026-12-03`, whose groups after the year are two digits) stay readable.
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
            output += isPhoneShaped(run) ? String(repeating: "*", count: max(0, run.count - 4)) + run.suffix(4) : run
            output += trailing
            run = ""
        }
        for character in text {
            if character.isASCII && character.isNumber || (character == "+" && run.isEmpty)
                || (!run.isEmpty && (character == "-" || character == " ") && run.last?.isNumber == true)
            {
                run.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    private static func isPhoneShaped(_ run: String) -> Bool {
        let groups = run.split { !$0.isNumber }
        return groups.reduce(0) { $0 + $1.count } >= 7 && groups.dropFirst().allSatisfy { $0.count >= 3 }
    }
}
