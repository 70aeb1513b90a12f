package lb.dataplane.io;

import org.agrona.concurrent.UnsafeBuffer;

import static lb.dataplane.io.PacketConstants.*;

/**
 * Receives the frames {@link PacketSocket#receive(FrameHandler, int)} walks. The buffer is the RX
 * ring itself (zero copy): the frame is valid only during the call and is given back to the kernel
 * right after it returns. The handler may rewrite the frame in place.
 */
@FunctionalInterface
public interface FrameHandler
{
    /** The L4 checksum is partial (checksum offload, TP_STATUS_CSUMNOTREADY): complete it before forwarding. */
    int CHECKSUM_PARTIAL = TP_STATUS_CSUMNOTREADY;
    /** The frame arrived with a VLAN tag the kernel took out (see tp_vlan_tci). */
    int VLAN_VALID = TP_STATUS_VLAN_VALID;
    /** The kernel or NIC verified the checksum (TP_STATUS_CSUM_VALID). */
    int CHECKSUM_VALID = TP_STATUS_CSUM_VALID;
    /** The frame is a TCP GSO super-frame, larger than the MTU (TP_STATUS_GSO_TCP). */
    int GSO_TCP = TP_STATUS_GSO_TCP;
    /** The frame was cut to fit the ring (snaplen below the wire length): drop it, never forward it. */
    int TRUNCATED = 1 << 16;
    /** A {@link VnetHeader} lies immediately before the frame, at {@code offset - VnetHeader.LENGTH}. */
    int VNET_HEADER = 1 << 17;

    /** The TP_STATUS bits passed through unchanged. */
    int STATUS_MASK = CHECKSUM_PARTIAL | VLAN_VALID | CHECKSUM_VALID | GSO_TCP;

    /**
     * One received frame.
     *
     * @param buffer the RX ring.
     * @param offset of the Ethernet header in the ring.
     * @param length bytes captured (the whole frame unless {@link #TRUNCATED}).
     * @param flags  {@link #CHECKSUM_PARTIAL}, {@link #TRUNCATED}, {@link #VLAN_VALID}, ... bits.
     */
    void onFrame(UnsafeBuffer buffer, int offset, int length, int flags);
}
