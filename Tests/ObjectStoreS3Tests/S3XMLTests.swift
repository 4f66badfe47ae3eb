import ObjectStoreS3
import Testing

@Suite struct S3XMLTests {
    @Test func readsRepeatedElementsAndDecodesEntities() {
        let document: Substring = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated>
            <Contents><Key>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x4E2D;</Key><Size>3</Size><ETag>&quot;x&quot;</ETag></Contents>
            <Contents><Key>second</Key><Size>0</Size><ETag>"y"</ETag></Contents>
            </ListBucketResult>
            """
        let entries = S3XML.elements("Contents", in: document)
        #expect(entries.count == 2)
        #expect(S3XML.text("Key", in: entries[0]) == "a&b <c> \"d\" 'e' é中")
        #expect(S3XML.text("ETag", in: entries[0]) == "\"x\"")
        #expect(S3XML.text("Key", in: entries[1]) == "second")
        #expect(S3XML.text("IsTruncated", in: document) == "true")
        #expect(S3XML.text("ListBucketResult", in: document) != nil, "an element with attributes is found")
    }

    @Test func malformedInputYieldsNothingInsteadOfTrapping() {
        let inputs: [Substring] = ["", "<", "<Key>", "<Key>unterminated", "</Key><Key>", "<Key>&", "<Key>&#xFFFFFFFFFF;</Key>",
                                   "<Key>&#55296;</Key>", "<Key>&unknown;</Key>", "<Key >x</Key>", "<Key attr=\"1\">", "<<<>>>"]
        for input in inputs {
            _ = S3XML.elements("Key", in: input)
            _ = S3XML.text("Key", in: input)
        }
        #expect(S3XML.text("Key", in: "<Key>&#55296;</Key>") == "&#55296;", "a surrogate code point is left as written")
        #expect(S3XML.text("Key", in: "<Key>unterminated") == nil)
    }

    @Test func escapingRoundTrips() {
        let text = "a<b>&\"c\"'d'"
        #expect(S3XML.decode(Substring(S3XML.escape(text))) == text)
    }
}
