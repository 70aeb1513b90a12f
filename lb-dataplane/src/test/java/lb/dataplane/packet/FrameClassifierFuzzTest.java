package lb.dataplane.packet;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import lb.dataplane.checksum.ReferenceChecksum;
import org.agrona.concurrent.UnsafeBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of {@link FrameClassifier} over arbitrary bytes: it never throws, never
 * touches a byte outside the frame (the frame ends where its buffer does, see {@link GuardedFrame}),
 * never writes, and whatever it accepts really has the layout it names (every offset and length
 * inside the frame, a verifying IPv4 header checksum). Without JAZZER_FUZZ this runs the seeds in
 * {@code FrameClassifierFuzzTestInputs/classify}; lb-dataplane's {@code fuzz-frame-classifier}
 * execution fuzzes it for {@link #FUZZ_DURATION} on every {@code mvn verify}; {@link FrameClassifierFuzzer} is
 * the entry point for long runs with Jazzer's own command line.
 */
class FrameClassifierFuzzTest
{
    static final String FUZZ_DURATION = "20s";

    private static final GuardedFrame frame = new GuardedFrame();
    private static final ParsedFrame parsed = new ParsedFrame();

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void classify(final byte[] input)
    {
        check(input);
    }

    /** One input; {@link FrameClassifierFuzzer} calls this from Jazzer's command line. */
    static void check(final byte[] input)
    {
        final UnsafeBuffer buffer = frame.place(input);
        final int offset = frame.offset();
        final int length = frame.length();
        final FrameType type = FrameClassifier.classify(buffer, offset, length, parsed);

        assertEquals(-1, frame.changedGuard(), "a byte before the frame changed");
        assertArrayEquals(Arrays.copyOf(input, length), frame.copy(), "the classifier wrote into the frame");
        if (type == FrameType.DROP)
        {
            assertNotNull(parsed.dropReason, "a dropped frame names its reason");
            return;
        }
        assertNull(parsed.dropReason, type + " with a drop reason");
        final int end = offset + length;
        assertEquals(offset, parsed.frameOffset);
        assertEquals(length, parsed.frameLength);
        assertTrue(parsed.l3Offset >= offset + EthernetHeader.HEADER_LENGTH && parsed.l3Offset < end, "l3 offset");
        if (type == FrameType.ARP)
        {
            assertTrue(parsed.l3Offset + ArpPacket.LENGTH <= end, "ARP packet inside the frame");
            return;
        }
        final byte[] bytes = frame.copy();
        final int ip = parsed.l3Offset - offset;
        assertTrue(parsed.ipHeaderLength >= 20, "IHL");
        assertEquals(parsed.l3Offset + parsed.ipHeaderLength, parsed.l4Offset, "l4 follows the IPv4 header");
        assertEquals(parsed.ipTotalLength, parsed.ipHeaderLength + parsed.l4Length, "total length = header + payload");
        assertTrue(parsed.l3Offset + parsed.ipTotalLength <= end, "datagram inside the frame");
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(bytes, ip),
            (bytes[ip + 10] & 0xFF) << 8 | bytes[ip + 11] & 0xFF, "accepted with a bad IPv4 header checksum");
        final int minimumL4 = switch (type)
        {
            case IPV4_TCP -> 20;
            default -> 8;
        };
        assertTrue(parsed.l4Length >= minimumL4, type + " payload of " + parsed.l4Length + " bytes");
    }
}
