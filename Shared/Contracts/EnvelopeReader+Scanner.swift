import Foundation

extension EnvelopeReader {
    /// A forward reader of JSON over bytes, for the envelope's top level: objects, strings,
    /// integers, null, and skipping any value (with its structure checked).
    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var atEnd: Bool { at >= bytes.count }

        static func notJSON(_ why: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: [], debugDescription: "not JSON: \(why)"))
        }

        mutating func skipWhitespace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        /// The next byte after whitespace, not consumed.
        mutating func peek() throws -> UInt8 {
            skipWhitespace()
            guard at < bytes.count else { throw Self.notJSON("unexpected end") }
            return bytes[at]
        }

        /// Nothing but whitespace is left.
        mutating func expectEnd() throws {
            skipWhitespace()
            guard atEnd else { throw Self.notJSON("data after the envelope at byte \(at)") }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard try peek() == byte else { throw Self.notJSON("expected \(Character(Unicode.Scalar(byte))) at byte \(at)") }
            at += 1
        }

        typealias Key = Slice<UnsafeBufferPointer<UInt8>>

        /// Reads an object, calling `member` with each key (its bytes, unescaped); `member`
        /// must read its value.
        mutating func object(_ member: (Key, inout Scanner) throws -> Void) throws {
            try expect(UInt8(ascii: "{"))
            if try peek() == UInt8(ascii: "}") {
                at += 1
                return
            }
            while true {
                guard try peek() == UInt8(ascii: "\"") else { throw Self.notJSON("expected a key at byte \(at)") }
                if let key = plainString() {
                    try expect(UInt8(ascii: ":"))
                    try member(key, &self)
                } else {
                    try Array(try rawString().utf8).withUnsafeBufferPointer { key in
                        try expect(UInt8(ascii: ":"))
                        try member(key[...], &self)
                    }
                }
                let next = try peek()
                at += 1
                guard next == UInt8(ascii: ",") else {
                    guard next == UInt8(ascii: "}") else { throw Self.notJSON("expected , or } at byte \(at - 1)") }
                    return
                }
                // A comma before the closing bracket, which JSONDecoder allows.
                if try peek() == UInt8(ascii: "}") {
                    at += 1
                    return
                }
            }
        }

        func mismatch(_ type: Any.Type, _ key: some CodingKey) -> DecodingError {
            .typeMismatch(type, .init(codingPath: [key], debugDescription: "expected \(type) at \(key.stringValue)"))
        }

        func invalid(_ key: some CodingKey, _ why: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: [key], debugDescription: why))
        }

        mutating func isNull() throws -> Bool {
            guard try peek() == UInt8(ascii: "n") else { return false }
            try literal("null")
            return true
        }

        mutating func string(for key: some CodingKey) throws -> String {
            guard try peek() == UInt8(ascii: "\"") else {
                _ = try skipValue()
                throw mismatch(String.self, key)
            }
            return try rawString()
        }

        mutating func id(for key: some CodingKey) throws -> UUID {
            if try peek() == UInt8(ascii: "\""), let text = plainString() {
                guard let id = EnvelopeReader.uuid(UnsafeBufferPointer(rebasing: text)) else {
                    throw invalid(key, "not a UUID: \(String(decoding: text, as: UTF8.self))")
                }
                return id
            }
            let text = try string(for: key)
            guard let id = EnvelopeReader.uuid(text) else { throw invalid(key, "not a UUID: \(text)") }
            return id
        }

        /// The bytes of the string at the current position when it needs no unescaping and
        /// no check (no escapes, control characters or bytes beyond ASCII): keys and ids.
        /// Otherwise nil, and nothing is consumed.
        mutating func plainString() -> Key? {
            let start = at + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20, bytes[end] < 0x80 {
                end += 1
            }
            guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
            at = end + 1
            return bytes[start..<end]
        }

        mutating func date(for key: some CodingKey) throws -> Date {
            let text = try string(for: key)
            let date = (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
            guard let date, PlausibleDates.contains(date) else { throw invalid(key, "expected an ISO 8601 date between 1900 and 2200, got \(text)") }
            return date
        }

        /// An integer. As JSONDecoder, a number with a fraction or exponent is taken when its
        /// value is whole (up to 2^53), and one that is not is reported as data corrupted
        /// without a path.
        mutating func integer(for key: some CodingKey) throws -> Int64 {
            guard try peek() == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(try peek()) else {
                try skipValue()
                throw mismatch(Int64.self, key)
            }
            let text = bytes[try skipValue()]
            let negative = text.first == UInt8(ascii: "-")
            var value: Int64 = 0
            for digit in text.dropFirst(negative ? 1 : 0) {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times.addingReportingOverflow(Int64(digit &- UInt8(ascii: "0")))
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9"), !overflow, !carry else { return try wholeNumber(text, for: key) }
                value = sum
            }
            return negative ? -value : value
        }

        private func wholeNumber(_ text: Slice<UnsafeBufferPointer<UInt8>>, for key: some CodingKey) throws -> Int64 {
            guard let number = Double(String(decoding: text, as: UTF8.self)), number.rounded() == number, abs(number) <= 9_007_199_254_740_992 else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(key.stringValue) is not a whole number in range"))
            }
            return Int64(number)
        }

        /// A string at the current position (its opening quote next), unescaped.
        mutating func rawString() throws -> String {
            guard try peek() == UInt8(ascii: "\"") else { throw Self.notJSON("expected a string at byte \(at)") }
            // Most strings (ids, names) are plain ASCII: take their bytes whole.
            if let plain = plainString() { return String(decoding: plain, as: UTF8.self) }
            at += 1
            return try unescapedString()
        }

        /// The rest of a string with escapes or bytes beyond ASCII, byte by byte, checked.
        private mutating func unescapedString() throws -> String {
            var out: [UInt8] = []
            while true {
                guard at < bytes.count else { throw Self.notJSON("unterminated string") }
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: out, as: UTF8.self) else { throw Self.notJSON("invalid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    try unescape(into: &out)
                case ..<0x20:
                    throw Self.notJSON("control character in a string")
                default:
                    out.append(byte)
                }
            }
        }

        private mutating func unescape(into out: inout [UInt8]) throws {
            guard at < bytes.count else { throw Self.notJSON("unterminated string") }
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                        throw Self.notJSON("lone surrogate")
                    }
                    at += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw Self.notJSON("lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Self.notJSON("lone surrogate") }
                out.append(contentsOf: String(Character(unicode)).utf8)
            default: throw Self.notJSON("invalid escape")
            }
        }

        private mutating func hex4() throws -> UInt32 {
            guard at + 4 <= bytes.count else { throw Self.notJSON("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = EnvelopeReader.hexValue(bytes[at]) else { throw Self.notJSON("invalid \\u escape") }
                value = value << 4 | UInt32(digit)
                at += 1
            }
            return value
        }

        mutating func literal(_ word: StaticString) throws {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard at + expected.count <= bytes.count, bytes[at..<at + expected.count].elementsEqual(expected) else {
                throw Self.notJSON("invalid literal at byte \(at)")
            }
            at += expected.count
        }

        /// Skips one value of any kind, checking its structure; returns its byte range.
        @discardableResult
        mutating func skipValue(depth: Int = 0) throws -> Range<Int> {
            guard depth < 512 else { throw Self.notJSON("nested too deeply") }
            let first = try peek()
            let start = at
            switch first {
            case UInt8(ascii: "\""): _ = try skipString()
            case UInt8(ascii: "{"):
                try object { _, scanner in try scanner.skipValue(depth: depth + 1) }
            case UInt8(ascii: "["):
                at += 1
                if try peek() == UInt8(ascii: "]") {
                    at += 1
                } else {
                    while true {
                        try skipValue(depth: depth + 1)
                        let next = try peek()
                        at += 1
                        if next == UInt8(ascii: "]") { break }
                        guard next == UInt8(ascii: ",") else { throw Self.notJSON("expected , or ] at byte \(at - 1)") }
                        if try peek() == UInt8(ascii: "]") {
                            at += 1
                            break
                        }
                    }
                }
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
            default: throw Self.notJSON("unexpected byte at \(at)")
            }
            return start..<at
        }

        /// Skips a string to its closing quote. Its escapes and characters are not checked:
        /// JSONDecoder does not check them in the strings it skips either.
        private mutating func skipString() throws {
            at += 1
            while at < bytes.count {
                let byte = bytes[at]
                at += byte == UInt8(ascii: "\\") ? 2 : 1
                if byte == UInt8(ascii: "\"") { return }
            }
            throw Self.notJSON("unterminated string")
        }

        /// A number as JSON writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        private mutating func skipNumber() throws {
            func digits(_ scanner: inout Scanner) -> Int {
                let start = scanner.at
                while scanner.at < scanner.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(scanner.bytes[scanner.at]) {
                    scanner.at += 1
                }
                return scanner.at - start
            }
            if bytes[at] == UInt8(ascii: "-") { at += 1 }
            let leadingZero = at < bytes.count && bytes[at] == UInt8(ascii: "0")
            let whole = digits(&self)
            guard whole > 0, !leadingZero || whole == 1 else { throw Self.notJSON("invalid number") }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard digits(&self) > 0 else { throw Self.notJSON("invalid number") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits(&self) > 0 else { throw Self.notJSON("invalid number") }
            }
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A UUID in its 36-character form, either case (what `UUID(uuidString:)` accepts),
    /// without Foundation's `sscanf`.
    public static func uuid(_ text: String) -> UUID? {
        var text = text
        return text.withUTF8 { uuid($0) }
    }

    static func uuid(_ chars: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard chars.count == 36 else { return nil }
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &raw) { out -> Bool in
            var index = 0
            var position = 0
            while position < 36 {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard chars[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                    continue
                }
                guard let high = hexValue(chars[position]), let low = hexValue(chars[position + 1]) else { return false }
                out[index] = high << 4 | low
                index += 1
                position += 2
            }
            return true
        }
        return ok ? UUID(uuid: raw) : nil
    }
}
