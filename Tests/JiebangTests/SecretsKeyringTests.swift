import Foundation
import Jiebang
import Testing

@Suite("Secrets keyring")
struct SecretsKeyringTests {
    @Test("A sealed secret opens to its text, names its key, and differs each time it is sealed")
    func roundTrip() throws {
        let keys = SecretsKeyring(current: .random(source: "JIEBANG_SECRETS_KEY"))
        let secret = String(repeating: "0f", count: 32)
        let (one, two) = (try keys.seal(secret), try keys.seal(secret))
        #expect(one != two)
        #expect(one.hasPrefix("v1:\(keys.current.id):") && !one.contains(secret))
        #expect(try keys.open(one) == secret && keys.open(two) == secret)
    }

    @Test("A key that is not base64 of 32 bytes is refused naming its source and how to make one")
    func badKeys() throws {
        for text in ["not a key", Data(count: 16).base64EncodedString(), ""] {
            let error = #expect(throws: SecretsKeyError.self) { try SecretsKeyring.Key(base64: text, source: "JIEBANG_SECRETS_KEY") }
            #expect(error?.description.hasPrefix("JIEBANG_SECRETS_KEY") == true)
        }
        let key = SecretsKeyring.Key.random(source: "test")
        #expect(try SecretsKeyring.Key(base64: " \(key.base64)\n", source: "file").id == key.id)
    }

    @Test("A wrong key, an altered secret or a secret in clear does not open, and the error says which")
    func wrongKey() throws {
        let right = SecretsKeyring(current: .random(source: "the key file"))
        let wrong = SecretsKeyring(current: .random(source: "JIEBANG_SECRETS_KEY"))
        let sealed = try right.seal("secret")
        let error = #expect(throws: SecretsKeyError.self) { try wrong.open(sealed) }
        #expect(error?.description.contains("sealed under key \(right.current.id)") == true)
        #expect(error?.description.contains("configured is \(wrong.current.id) (from JIEBANG_SECRETS_KEY)") == true)
        // The wrong key as retired beside the right one: it opens.
        #expect(try SecretsKeyring(current: wrong.current, retired: [right.current]).open(sealed) == "secret")

        // One bit of the ciphertext flipped (in the bytes, not the base64 text, whose last character may carry
        // bits that decoding drops).
        var parts = sealed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var payload = try #require(Data(base64Encoded: parts[parts.count - 1]))
        payload[payload.startIndex + 12] ^= 0x01
        parts[parts.count - 1] = payload.base64EncodedString()
        let altered = parts.joined(separator: ":")
        let alteredError = #expect(throws: SecretsKeyError.self) { try right.open(altered) }
        #expect(alteredError?.description.contains("altered") == true)
        let clearError = #expect(throws: SecretsKeyError.self) { try right.open(String(repeating: "ab", count: 32)) }
        #expect(clearError?.description.contains("not sealed") == true)
    }
}
