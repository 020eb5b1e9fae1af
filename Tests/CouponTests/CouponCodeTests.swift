import Testing

@testable import CouponService

/// Codes without look-alikes and with a check character: every single mistyped character and
/// every swap of two different neighbours is told apart from a code that was never issued.
@Suite("Coupon codes", .timeLimit(.minutes(1)))
struct CouponCodeTests {
    @Test("generated codes are twelve characters of the alphabet, check out, and do not repeat")
    func generated() {
        let codes = (0..<2000).map { _ in CouponCode.generate() }
        #expect(Set(codes).count == codes.count)
        for code in codes.prefix(200) {
            #expect(code.count == 12 && code.allSatisfy { CouponCode.alphabet.contains($0) })
            #expect(CouponCode.read(code) == .wellFormed(code))
        }
        #expect(!CouponCode.alphabet.contains { "0O1IL".contains($0) })
    }

    @Test("every single wrong character and every swap of neighbours reads as mistyped")
    func mistyped() {
        for code in (0..<20).map({ _ in Array(CouponCode.generate()) }) {
            for position in code.indices {
                for replacement in CouponCode.alphabet where replacement != code[position] {
                    var typo = code
                    typo[position] = replacement
                    #expect(CouponCode.read(String(typo)) == .mistyped)
                }
            }
            for position in code.indices.dropLast() where code[position] != code[position + 1] {
                var swapped = code
                swapped.swapAt(position, position + 1)
                #expect(CouponCode.read(String(swapped)) == .mistyped)
            }
        }
    }

    @Test("case, spaces and dashes do not matter; look-alikes, wrong lengths and junk are not codes")
    func reading() {
        let code = CouponCode.generate()
        let grouped = code.prefix(4) + "-" + code.dropFirst(4).prefix(4) + " " + code.suffix(4)
        #expect(CouponCode.read(grouped.lowercased()) == .wellFormed(code))
        #expect(CouponCode.read(String(code.dropLast())) == .malformed)
        #expect(CouponCode.read(code + "2") == .malformed)
        #expect(CouponCode.read("O" + code.dropFirst()) == .malformed)
        #expect(CouponCode.read(String(repeating: "A", count: 41)) == .malformed)
        #expect(CouponCode.read("") == .malformed)
    }
}
