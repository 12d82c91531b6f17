import Foundation
import Jiebang
import Testing

@Suite("Base64url")
struct Base64URLTests {
    @Test("Every length from 0 to 100 bytes encodes as Foundation's base64 with - _ and no padding, and decodes back")
    func matchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == foundation)
            #expect(Base64URL.decode(foundation) == bytes)
            #expect(Base64URL.decode(foundation + String(repeating: "=", count: (4 - foundation.count % 4) % 4)) == bytes)
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test("Text that no encoder writes is refused: bytes outside the alphabet, a length of 4n+1, bits set past the last byte")
    func refusesWhatNoEncoderWrites() {
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("ab/c") == nil)
        #expect(Base64URL.decode("ab c") == nil)
        #expect(Base64URL.decode("稀土") == nil)
        #expect(Base64URL.decode("abcde") == nil)
        #expect(Base64URL.decode("QR") == nil)
        #expect(Base64URL.decode("QQ") == [0x41])
        #expect(Base64URL.decode("QUJ") == nil)
        #expect(Base64URL.decode("QUI") == [0x41, 0x42])
        #expect(Base64URL.decode("") == [])
    }
}
