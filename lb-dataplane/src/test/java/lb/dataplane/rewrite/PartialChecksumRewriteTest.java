package lb.dataplane.rewrite;

import java.util.Random;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A frame that arrived with checksum offload pending (the L4 field holds the pseudo-header sum)
 * and leaves through a vnet-header socket keeps its checksum partial: the kernel completes it on
 * transmit. Here the test completes it exactly as the kernel does (sum the L4 bytes from
 * csum_start with the field as it is, complement) and compares with full recomputation.
 */
class PartialChecksumRewriteTest
{
    @Test
    void keptPartialChecksumCompletesToTheFullChecksum()
    {
        final long seed = 0x5EED_0F_CAFEL;
        final Random random = new Random(seed);
        final byte[] bytes = new byte[1600];
        final UnsafeBuffer frame = new UnsafeBuffer(bytes);
        final ParsedFrame parsed = new ParsedFrame();
        final ForwardNat forward = new ForwardNat();
        final ReturnNat back = new ReturnNat();
        for (int n = 0; n < 20_000; n++)
        {
            final int protocol = random.nextBoolean() ? 6 : 17;
            final int headerLength = protocol == 6 ? 20 : 8;
            final int l4Length = headerLength + random.nextInt(1400);
            final int ip = EthernetHeader.write(frame, 0, 0x020000000001L, 0x020000000002L, EthernetHeader.ETHER_TYPE_IPV4);
            final int l4 = ip + Ipv4Header.write(frame, ip, 20 + l4Length, 2 + random.nextInt(250), protocol,
                random.nextInt() | 0x0100_0000, random.nextInt() | 0x0100_0000); // never 0.0.0.0/8, which the classifier drops
            for (int i = 0; i < l4Length; i++)
            {
                bytes[l4 + i] = (byte)random.nextInt();
            }
            if (protocol == 6)
            {
                bytes[l4 + 12] = 0x50;
            }
            else
            {
                frame.putShort(l4 + 4, (short)l4Length, BIG_ENDIAN);
            }
            final int checksumIndex = l4 + (protocol == 6 ? 16 : 6);
            // What the sending stack leaves in the field: the folded, not complemented, pseudo-header sum.
            frame.putShort(checksumIndex, (short)ReferenceChecksum.pseudoHeaderSum(bytes, ip), BIG_ENDIAN);

            parsed.l4ChecksumPartial = true;
            parsed.txCompletesChecksum = true;
            final int length = l4 + l4Length;
            assertTrue(FrameClassifier.classify(frame, 0, length, parsed) != FrameType.DROP, "seed " + seed + " frame " + n);
            final boolean ok = (n & 1) == 0 ?
                forward.apply(frame, parsed, 0x020000000003L, 0x020000000004L, random.nextInt(), random.nextInt(65536)) :
                back.apply(frame, parsed, 0x020000000003L, 0x020000000004L, random.nextInt(), random.nextInt(65536));
            assertTrue(ok);

            assertEquals(ReferenceChecksum.ipv4HeaderChecksum(bytes, ip), frame.getShort(ip + 10, BIG_ENDIAN) & 0xFFFF);
            final int completed = ~ReferenceChecksum.onesComplementSum(bytes, l4, l4Length) & 0xFFFF;
            final int expected = ReferenceChecksum.l4Checksum(bytes, ip);
            assertEquals(expected == 0xFFFF ? 0 : expected, completed == 0xFFFF ? 0 : completed,
                "seed " + seed + " frame " + n + " protocol " + protocol);
            assertEquals(ReferenceChecksum.pseudoHeaderSum(bytes, ip) % 0xFFFF,
                (frame.getShort(checksumIndex, BIG_ENDIAN) & 0xFFFF) % 0xFFFF, "still a partial sum");
        }
        assertEquals(0, Checksums.updatePartial32(0, 0x01020304, 0x01020304) % 0xFFFF);
    }
}
