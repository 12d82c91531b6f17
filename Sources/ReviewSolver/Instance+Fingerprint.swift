extension Instance {
    /// FNV-1a over a canonical encoding: sizes, ids in order, loads, organisations, sorted pairs.
    static func digest(
        bids: [Bid], experts: [Expert], panelSize: Int, alternates: Int, cap: Rational,
        affinities: [(key: UInt64, value: Int32)], conflicts: [UInt64]
    ) -> UInt64 {
        var hasher = FNV1a()
        hasher.add(UInt64(panelSize))
        hasher.add(UInt64(alternates))
        hasher.add(UInt64(bids.count))
        for bid in bids { hasher.add(bid.id) }
        hasher.add(UInt64(experts.count))
        for expert in experts {
            hasher.add(expert.id)
            hasher.add(expert.organisation)
            hasher.add(UInt64(expert.load))
        }
        hasher.add(UInt64(affinities.count))
        for affinity in affinities {
            hasher.add(affinity.key)
            hasher.add(UInt64(affinity.value))
        }
        hasher.add(UInt64(conflicts.count))
        for conflict in conflicts { hasher.add(conflict) }
        return hasher.value ^ capDigest(cap)
    }

    /// The cap's part of the fingerprint, so that ``with(cap:)`` can swap it.
    static func capDigest(_ cap: Rational) -> UInt64 {
        var hasher = FNV1a()
        hasher.add(UInt64(cap.numerator))
        hasher.add(UInt64(cap.denominator))
        return hasher.value
    }
}

/// 64-bit FNV-1a, fed with length-prefixed strings and little-endian integers.
private struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ integer: UInt64) {
        var rest = integer
        for _ in 0..<8 {
            value = (value ^ (rest & 0xFF)) &* 0x0000_0100_0000_01B3
            rest >>= 8
        }
    }

    mutating func add(_ text: String) {
        add(UInt64(text.utf8.count))
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    }
}
