"""The built-in static embedder: BERT's tokenization exactly, paraphrases close, fast, dense."""

import numpy as np
import pytest

from rag.embedders import StaticEmbedder, get_embedder
from rag.wordpiece import WordPiece, basic_words

# Token ids from the model's own tokenizer (transformers' BertTokenizerFast) for these texts.
REFERENCE = {
    "How do I purchase a vehicle?": [2129, 2079, 1045, 5309, 1037, 4316, 1029],
    "¿Cuándo vence el alquiler del piso?": [1094, 12731, 28574, 2310, 5897, 3449, 2632, 26147, 2121, 3972, 14255, 6499, 1029],
    "Photosynthesis converts CO2-rich air; e-mails & URLs: https://x.y/z": [
        7760, 6038, 25078, 19884, 2522, 2475, 1011, 4138, 2250, 1025, 1041, 1011, 5653, 2015, 1004, 24471, 4877, 1024,
        16770, 1024, 1013, 1013, 1060, 1012, 1061, 1013, 1062],
    "naïve café déjà vu": [15743, 7668, 2139, 3900, 24728],
    "Unaffordable": [14477, 4246, 8551, 3085],
}


@pytest.fixture(scope="module")
def embedder():
    return StaticEmbedder()


def test_tokenization_matches_the_models_tokenizer(embedder):
    for text, ids in REFERENCE.items():
        assert embedder.tokenizer.encode(text) == ids, text


def test_basic_words_split_like_bert():
    assert basic_words("Hello, WORLD!  Ça va?\tx\x01y") == ["hello", ",", "world", "!", "ca", "va", "?", "xy"]
    assert WordPiece(["[UNK]", "un", "##aff"]).encode("unaff zzz") == [1, 2]  # an unknown word adds nothing


def test_vectors_are_dense_normalised_and_deterministic(embedder):
    vectors = np.array(embedder.embed_documents(["Change the engine oil every 10,000 km.", "Riega los tomates cada mañana."]))
    assert vectors.shape == (2, embedder.dimension) == (2, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (np.abs(vectors) > 1e-6).mean() > 0.9  # dense, unlike hashed features
    assert vectors.tolist() == embedder.embed_documents(["Change the engine oil every 10,000 km.", "Riega los tomates cada mañana."])
    assert embedder.embed_documents([""])[0] == [0.0] * 256


def test_case_and_accents_do_not_matter(embedder):
    a, b = embedder.embed_documents(["Canción de la ESTACIÓN", "cancion de la estacion"])
    assert float(np.dot(a, b)) > 0.999


def test_a_paraphrase_is_nearer_than_a_distractor(embedder):
    query = np.array(embedder.embed_query("How do I purchase a vehicle?"))
    passages = np.array(embedder.embed_documents([
        "Buying a car: compare insurance prices and take a test drive first.",
        "Boil the spaghetti for nine minutes in salted water.",
        "Water the tomatoes every morning during the summer.",
    ]))
    scores = passages @ query
    assert scores.argmax() == 0 and scores[0] - scores[1:].max() > 0.2


def test_it_is_the_default_and_embeds_a_large_batch(embedder, settings):
    # Its speed is measured by bench/rag.py, not asserted here: a timed test fails on a busy host.
    assert get_embedder().name == "static" == settings.EMBEDDER
    texts = [f"Paragraph {i}: the quarterly budget review covers rent, groceries and savings goals. " * 8 for i in range(2000)]
    vectors = embedder.embed_array(texts)
    assert vectors.shape == (2000, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
