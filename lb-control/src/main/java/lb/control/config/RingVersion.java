package lb.control.config;

/**
 * The PACKET_MMAP receive ring layout. {@link #V2} hands over each frame as soon as it lands
 * (lower latency at low load); {@link #V3} hands over whole blocks, which batches better at high
 * load but holds a partly filled block until its retire timer fires.
 */
public enum RingVersion
{
    V2,
    V3;

    /** @return the name in the config file and on the command line: {@code v2} or {@code v3}. */
    public String configName()
    {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
