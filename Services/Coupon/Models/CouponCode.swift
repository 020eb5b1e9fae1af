/// A coupon's code: twelve characters from an alphabet without look-alikes (no 0/O, no
/// 1/I/L), eleven of them random from the system's cryptographic source and the last a
/// check character, so a mistyped code (one wrong character, or two neighbours swapped) is
/// told apart from one that was never issued. The code is also the QR payload.
///
/// The check: the character values weighted by their position (1…12) sum to a multiple of
/// 31. The alphabet has 31 characters, a prime, so a wrong character changes the sum by
/// weight × difference, never a multiple of 31, and a swap by the weights' difference (1)
/// × the characters' difference, never either.
enum CouponCode {
    static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    static let length = 12

    /// A fresh code. `SystemRandomNumberGenerator` reads the kernel's CSPRNG (getrandom).
    static func generate() -> String {
        var random = SystemRandomNumberGenerator()
        let body = (1..<length).map { _ in alphabet[Int(random.next(upperBound: UInt32(alphabet.count)))] }
        return String(body) + String(check(for: body))
    }

    enum Reading: Equatable {
        case wellFormed(String)
        /// The right length and alphabet, but the check character does not match.
        case mistyped
        /// Not a coupon code at all.
        case malformed
    }

    /// Reads what a person typed or a scanner read: case and spaces or dashes between groups
    /// do not matter.
    static func read(_ text: String) -> Reading {
        guard text.count <= 40 else { return .malformed }
        let cleaned = Array(text.uppercased().filter { $0 != " " && $0 != "-" })
        guard cleaned.count == length, let values = values(of: cleaned) else { return .malformed }
        return checksum(values) == 0 ? .wellFormed(String(cleaned)) : .mistyped
    }

    static func check(for body: [Character]) -> Character {
        let n = alphabet.count
        let sum = weightedSum(values(of: body) ?? [])
        // The check's weight is 12; 12 × 13 = 156 ≡ 1 (mod 31), so 13 is its inverse.
        return alphabet[(n - sum % n) % n * 13 % n]
    }

    private static func checksum(_ values: [Int]) -> Int {
        weightedSum(values) % alphabet.count
    }

    private static func weightedSum(_ values: [Int]) -> Int {
        values.enumerated().reduce(0) { $0 + ($1.offset + 1) * $1.element }
    }

    private static func values(of characters: [Character]) -> [Int]? {
        var values: [Int] = []
        for character in characters {
            guard let index = alphabet.firstIndex(of: character) else { return nil }
            values.append(index)
        }
        return values
    }
}
