package lb.control.config;

import java.util.Objects;

/**
 * The PACKET_MMAP receive ring of each dataplane socket.
 *
 * @param version    TPACKET_V2 or TPACKET_V3.
 * @param frameSize  bytes per frame slot including the kernel's frame header, a power of two;
 *                   a packet bigger than the slot arrives truncated and is dropped.
 * @param frameCount frame slots per ring, a power of two.
 */
public record RxRingConfig(RingVersion version, int frameSize, int frameCount)
{
    /** Rejects nulls. */
    public RxRingConfig
    {
        Objects.requireNonNull(version, "version");
    }

    /** @return the ring's size in bytes. */
    public long ringBytes()
    {
        return (long)frameSize * frameCount;
    }
}
