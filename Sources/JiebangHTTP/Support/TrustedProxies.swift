#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The reverse proxies whose `X-Forwarded-For` is believed: exact addresses (`10.0.0.7`, `::1`) and
/// networks in CIDR notation (`10.0.0.0/8`, `fd00::/8`), IPv4 and IPv6. In Kubernetes the ingress
/// controller's pods change address, so their network is named rather than each pod.
package struct TrustedProxies: Sendable, Hashable {
    /// One entry: an address's bytes and how many leading bits must match (all of them for an address).
    struct Range: Sendable, Hashable {
        var bytes: [UInt8]
        var prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var bits = prefix
            for index in bytes.indices where bits > 0 {
                let take = min(8, bits)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
                guard address[index] & mask == bytes[index] & mask else { return false }
                bits -= take
            }
            return true
        }
    }

    let ranges: [Range]

    /// The entries, or nil naming the first that is neither an IP address nor a network.
    package static func parse(_ entries: some Sequence<String>) -> Result<TrustedProxies, InvalidEntry> {
        var ranges: [Range] = []
        for entry in entries {
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let bytes = address(parts[0]) else { return .failure(InvalidEntry(entry: entry)) }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let bits = Int(parts[1]), (0...bytes.count * 8).contains(bits), parts[1].allSatisfy(\.isNumber) else {
                    return .failure(InvalidEntry(entry: entry))
                }
                prefix = bits
            }
            ranges.append(Range(bytes: bytes, prefix: prefix))
        }
        return .success(TrustedProxies(ranges: ranges))
    }

    /// An entry of `JIEBANG_TRUSTED_PROXIES` that is neither an IP address nor a network.
    package struct InvalidEntry: Error, Sendable, Equatable {
        var entry: String
    }

    /// Whether `address` (the text of an IP address) is one of the proxies or in one of their networks.
    package func contains(_ address: String) -> Bool {
        guard let bytes = Self.address(address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// The bytes of an IPv4 (4) or IPv6 (16) address, as `inet_pton` reads it; nil for anything else,
    /// including text with a NUL, which C would read only up to it.
    package static func address(_ text: String) -> [UInt8]? {
        guard !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
