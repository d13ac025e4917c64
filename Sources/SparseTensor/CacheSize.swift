// SparseTensor/CacheSize: the machine's last-level cache, for kernels that pay only while their vectors stay cached.
import Foundation

/// The size of the machine's last-level cache.
///
/// Read once from Linux's sysfs (`/sys/devices/system/cpu/cpu0/cache/index*/{level,size}`, the highest
/// level's size); 32 MiB where that is missing (always on macOS, where sysfs does not exist). (glibc's `sysconf(_SC_LEVEL3_CACHE_SIZE)` is not used: on
/// the virtual machines lsq was measured on it reported ten times the cache the hardware has.)
public enum CacheSize {
    public static let lastLevelBytes: Int = {
        var best: (level: Int, bytes: Int)?
        for k in 0..<10 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(k)/"
            guard let levelText = try? String(contentsOfFile: dir + "level", encoding: .utf8),
                  let sizeText = try? String(contentsOfFile: dir + "size", encoding: .utf8),
                  let level = Int(levelText.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let bytes = parseSize(sizeText) else { continue }
            if best == nil || level > best!.level { best = (level, bytes) }
        }
        return best?.bytes ?? 32 << 20
    }()

    /// "32768K", "1M" or "512" (bytes) as bytes; nil for anything else.
    static func parseSize(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var unit = 1
        switch s.last {
        case "K": unit = 1 << 10
        case "M": unit = 1 << 20
        case "G": unit = 1 << 30
        default: break
        }
        if unit > 1 { s.removeLast() }
        guard let value = Int(s), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }
}
