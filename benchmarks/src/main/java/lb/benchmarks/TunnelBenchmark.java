package lb.benchmarks;

import java.util.concurrent.TimeUnit;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.rewrite.Ip6Ip6Encap;
import lb.dataplane.rewrite.IpipEncap;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.benchmarks.TcpFrames.BACKEND_MAC;
import static lb.benchmarks.TcpFrames.CLIENT_IP;
import static lb.benchmarks.TcpFrames.CLIENT_MAC;
import static lb.benchmarks.TcpFrames.LB_CLIENT_MAC;
import static lb.benchmarks.TcpFrames.LB_SERVER_MAC;
import static lb.benchmarks.TcpFrames.VIP;

/**
 * The two IP-in-IP encapsulations of mode ipip on one classified TCP frame: {@link IpipEncap} (IPv4 in IPv4,
 * 20 bytes, the outer checksum) and {@link Ip6Ip6Encap} (IPv6 in IPv6, 40 bytes, the flow label hash), each
 * writing the whole encapsulated frame into a second buffer as the pipeline does (its scratch buffer). Neither
 * changes the received frame (no partial checksum here), so nothing needs restoring. {@code payload} 10 is a small
 * segment; 1400 makes the IPv6 packet 1460 bytes, the most that fits a 1500-byte server MTU with the outer header.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TunnelBenchmark
{
    private static final int GATEWAY_IP = 0xC612_0101;  // 198.18.1.1
    private static final int BACKEND_IP = 0xC612_010B;  // 198.18.1.11
    private static final long CLIENT_NET6 = 0x2001_0002_0000_0000L;  // 2001:2::/64
    private static final long SERVER_NET6 = 0x2001_0002_0000_0001L;  // 2001:2:0:1::/64

    /** TCP payload bytes. */
    @Param({ "10", "1400" })
    public int payload;

    private final ParsedFrame parsed4 = new ParsedFrame();
    private final ParsedFrame parsed6 = new ParsedFrame();
    private UnsafeBuffer frame4;
    private UnsafeBuffer frame6;
    private UnsafeBuffer out;

    // Addresses in fields, so the JIT cannot fold them into constants.
    private int gatewayIp;
    private int backendIp;
    private long gatewayLow6;
    private long backendLow6;

    @Setup(Level.Trial)
    public void setUp()
    {
        final int length4 = TcpFrames.HEADERS_LENGTH + payload;
        frame4 = TcpFrames.allocate(length4);
        TcpFrames.write(frame4, 0, length4, LB_CLIENT_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40_000, 80, TcpHeader.ACK);
        final int length6 = EthernetHeader.HEADER_LENGTH + Ipv6Header.HEADER_LENGTH + TcpHeader.MIN_HEADER_LENGTH + payload;
        frame6 = TcpFrames.allocate(length6);
        TcpFrames.writeIpv6(frame6, 0, length6, LB_CLIENT_MAC, CLIENT_MAC, CLIENT_NET6, 0x11, CLIENT_NET6, 0x100, 40_000, 80,
            TcpHeader.ACK);
        out = TcpFrames.allocate(length6 + Ip6Ip6Encap.OVERHEAD);
        if (FrameClassifier.classify(frame4, 0, length4, parsed4) != FrameType.IPV4_TCP ||
            FrameClassifier.classify(frame6, 0, length6, parsed6) != FrameType.IPV6_TCP)
        {
            throw new IllegalStateException("frames do not classify as TCP: " + parsed4.dropReason + ", " + parsed6.dropReason);
        }
        gatewayIp = GATEWAY_IP;
        backendIp = BACKEND_IP;
        gatewayLow6 = 1;
        backendLow6 = 0x11;

        // The measured operations must write what the pipeline sends.
        if (ipipEncap() != length4 + IpipEncap.OVERHEAD || ip6ip6Encap() != length6 + Ip6Ip6Encap.OVERHEAD ||
            (out.getShort(EthernetHeader.HEADER_LENGTH + Ipv6Header.PAYLOAD_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF) !=
                length6 - EthernetHeader.HEADER_LENGTH)
        {
            throw new IllegalStateException("an encapsulation wrote a frame of the wrong length");
        }
    }

    /** IPv4 in IPv4: Ethernet, the outer header with its checksum, the inner packet copied. */
    @Benchmark
    public int ipipEncap()
    {
        return IpipEncap.apply(frame4, parsed4, out, 0, LB_SERVER_MAC, BACKEND_MAC, gatewayIp, backendIp);
    }

    /** IPv6 in IPv6: Ethernet, the outer header with the traffic class and the flow label, the inner packet copied. */
    @Benchmark
    public int ip6ip6Encap()
    {
        return Ip6Ip6Encap.apply(frame6, parsed6, out, 0, LB_SERVER_MAC, BACKEND_MAC, SERVER_NET6, gatewayLow6,
            SERVER_NET6, backendLow6);
    }

    /** The flow label hash alone (part of {@link #ip6ip6Encap()}). */
    @Benchmark
    public int flowLabel()
    {
        return Ip6Ip6Encap.flowLabel(parsed6);
    }
}
