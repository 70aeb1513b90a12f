package lb.benchmarks;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import lb.dataplane.packet.TcpHeader;
import lb.dataplane.rewrite.ForwardNat;
import lb.dataplane.rewrite.ReturnNat;
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

import java.util.concurrent.TimeUnit;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static lb.benchmarks.TcpFrames.BACKEND_MAC;
import static lb.benchmarks.TcpFrames.CLIENT_IP;
import static lb.benchmarks.TcpFrames.CLIENT_MAC;
import static lb.benchmarks.TcpFrames.LB_CLIENT_MAC;
import static lb.benchmarks.TcpFrames.LB_SERVER_MAC;
import static lb.benchmarks.TcpFrames.VIP;

/**
 * The NAT rewrites on one classified TCP frame: MACs, one address, one port, TTL, IPv4 checksum and TCP checksum
 * updated incrementally (RFC 1624).
 * <p>
 * The rewrite mutates the frame, and alternating targets would not keep it valid: the TTL drops by one per rewrite
 * and the rewrite refuses the frame once it would reach 0. So every operation first copies the 64 header bytes back
 * from a pristine image ({@link TcpFrames#restore64}, eight long moves); {@link #restoreOnly()} measures that copy
 * alone, to subtract. The frame is classified once in setup; the rewrite reads old values from the buffer, so the
 * same {@link ParsedFrame} stays right after each restore.
 * <p>
 * {@code frameLength} 64 is the minimum Ethernet frame (54 header bytes, 10 payload); 1514 is a full 1500-byte IPv4
 * datagram. The incremental rewrite touches only headers, so it should not depend on it; the full checksum
 * ({@link #fullTcpChecksum()}, and {@link #forwardNatPartialChecksum()}, the path for frames that arrive with only
 * the pseudo-header sum, as on veth with checksum offload) reads the whole segment.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RewriteBenchmark
{
    private static final int BACKEND_IP = 0xC613_0001; // 198.19.0.1

    /** Frame length in bytes. */
    @Param({ "64", "1514" })
    public int frameLength;

    private final ForwardNat forwardNat = new ForwardNat();
    private final ReturnNat returnNat = new ReturnNat();
    private final ParsedFrame parsed = new ParsedFrame();
    private UnsafeBuffer frame;
    private UnsafeBuffer pristine;

    // Rewrite targets in fields, so the JIT cannot fold them into constants.
    private long srcMac;
    private long dstMac;
    private int natIp;
    private int natPort;

    @Setup(Level.Trial)
    public void setUp()
    {
        frame = TcpFrames.allocate(frameLength);
        pristine = TcpFrames.allocate(frameLength);
        TcpFrames.write(pristine, 0, frameLength, LB_CLIENT_MAC, CLIENT_MAC, CLIENT_IP, VIP, 40_000, 80, TcpHeader.ACK);
        frame.putBytes(0, pristine, 0, frameLength);
        if (FrameClassifier.classify(frame, 0, frameLength, parsed) != FrameType.IPV4_TCP)
        {
            throw new IllegalStateException("frame does not classify as TCP: " + parsed.dropReason);
        }
        srcMac = LB_SERVER_MAC;
        dstMac = BACKEND_MAC;
        natIp = BACKEND_IP;
        natPort = 8080;

        // The measured operations must take the success path and leave valid frames.
        if (!forwardNat() || !TcpFrames.checksumsValid(frame, 0, frameLength) ||
            frame.getInt(parsed.l3Offset + Ipv4Header.DESTINATION_OFFSET, BIG_ENDIAN) != BACKEND_IP)
        {
            throw new IllegalStateException("forward rewrite failed or left bad checksums");
        }
        if (!returnNat() || !TcpFrames.checksumsValid(frame, 0, frameLength))
        {
            throw new IllegalStateException("return rewrite failed or left bad checksums");
        }
        if (!forwardNatPartialChecksum() || !TcpFrames.checksumsValid(frame, 0, frameLength))
        {
            throw new IllegalStateException("partial-checksum rewrite failed or left bad checksums");
        }
        TcpFrames.restore64(frame, 0, pristine, 0);
    }

    /** The restore every other operation here starts with, alone. */
    @Benchmark
    public void restoreOnly()
    {
        TcpFrames.restore64(frame, 0, pristine, 0);
    }

    /** Restore, then client-to-backend rewrite (destination address and port) with incremental checksums. */
    @Benchmark
    public boolean forwardNat()
    {
        TcpFrames.restore64(frame, 0, pristine, 0);
        return forwardNat.apply(frame, parsed, srcMac, dstMac, natIp, natPort);
    }

    /** Restore, then backend-to-client rewrite (source address and port) with incremental checksums. */
    @Benchmark
    public boolean returnNat()
    {
        TcpFrames.restore64(frame, 0, pristine, 0);
        return returnNat.apply(frame, parsed, srcMac, dstMac, natIp, natPort);
    }

    /**
     * Restore, then the forward rewrite of a frame whose TCP checksum field holds only the pseudo-header sum: the
     * rewrite computes the checksum over the whole segment.
     */
    @Benchmark
    public boolean forwardNatPartialChecksum()
    {
        TcpFrames.restore64(frame, 0, pristine, 0);
        parsed.l4ChecksumPartial = true;
        return forwardNat.apply(frame, parsed, srcMac, dstMac, natIp, natPort);
    }

    /** For reference: the TCP checksum over the whole segment and the pseudo-header, no rewrite, no restore. */
    @Benchmark
    public int fullTcpChecksum()
    {
        return Checksums.l4Checksum(frame, parsed.l3Offset, parsed.l4Offset, parsed.l4Length, parsed.protocol);
    }
}
